import { Parser } from 'htmlparser2'
import type { PluginApi } from '../index.ts'

/** Hashes by algorithm name, lower-case hex: `{ sha256: "…" }`. */
export type Hashes = Record<string, string>

/** One distribution file of a project, whichever form (PEP 503 HTML or PEP 691 JSON) the upstream used. */
export interface ProjectFile {
  filename: string
  /** Where the upstream keeps it: absolute, without the hash fragment. */
  url: string
  hashes: Hashes
  requiresPython?: string
  /** `true`, or the reason given. */
  yanked?: true | string
  /** PEP 658/714: a `.metadata` file lies beside it, with these hashes (`{}` when none were published). */
  coreMetadata?: Hashes
  gpgSig?: boolean
  /** Other fields of a JSON upstream (PEP 700 `size`, `upload-time`, …), passed on unchanged. */
  extra: Record<string, unknown>
}

export interface ProjectPage {
  kind: 'project'
  name: string
  files: ProjectFile[]
  /** PEP 700: every version, including ones without files (JSON upstreams only). */
  versions?: string[]
  apiVersion: string
}

export interface ProjectList {
  kind: 'index'
  projects: string[]
  apiVersion: string
}

export type PypiDocument = ProjectPage | ProjectList

type Valibot = PluginApi['v']

/** A JSON upstream answer starts with `{`; an HTML one never does. */
export function isJson (bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0xef || byte === 0xbb || byte === 0xbf) continue
    return byte === 0x7b
  }
  return false
}

function jsonSchemas (v: Valibot) {
  const meta = v.object({ 'api-version': v.pipe(v.string(), v.regex(/^1\.\d+$/, 'expected api-version 1.x')) })
  const hashes = v.record(v.string(), v.string())
  const metadataFlag = v.optional(v.union([v.boolean(), hashes]))
  return {
    index: v.object({ meta, projects: v.array(v.object({ name: v.string() })) }),
    project: v.object({
      meta,
      name: v.string(),
      versions: v.optional(v.array(v.string())),
      files: v.array(v.looseObject({
        filename: v.string(),
        url: v.string(),
        hashes,
        'requires-python': v.optional(v.nullable(v.string())),
        'core-metadata': metadataFlag,
        'dist-info-metadata': metadataFlag,
        'gpg-sig': v.optional(v.boolean()),
        yanked: v.optional(v.union([v.boolean(), v.string()]))
      }))
    })
  }
}

/**
 * Fields this node reads or rewrites; everything else in a JSON file entry passes
 * through. `data-dist-info-metadata` is PyPI's misspelt PEP 658 key (PEP 714): dropped.
 */
const KNOWN_FILE_FIELDS = new Set(['filename', 'url', 'hashes', 'requires-python', 'core-metadata', 'dist-info-metadata', 'data-dist-info-metadata', 'gpg-sig', 'yanked'])

/** A PEP 691 JSON answer. `pageUrl` resolves relative file URLs. */
export function parseJson (text: string, kind: PypiDocument['kind'], pageUrl: string, api: PluginApi): PypiDocument {
  const { v, errors } = api
  const schemas = jsonSchemas(v)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new errors.UpstreamError('the upstream sent malformed JSON')
  }
  if (kind === 'index') {
    const parsed = v.safeParse(schemas.index, data)
    if (!parsed.success) throw new errors.UpstreamError(`the upstream project list is not PEP 691 JSON: ${v.summarize(parsed.issues)}`)
    return { kind, projects: parsed.output.projects.map((p) => p.name), apiVersion: parsed.output.meta['api-version'] }
  }
  const parsed = v.safeParse(schemas.project, data)
  if (!parsed.success) throw new errors.UpstreamError(`the upstream project page is not PEP 691 JSON: ${v.summarize(parsed.issues)}`)
  const page = parsed.output
  return {
    kind,
    name: page.name,
    versions: page.versions,
    apiVersion: page.meta['api-version'],
    files: page.files.map((file) => {
      const metadata = file['core-metadata'] ?? file['dist-info-metadata']
      return {
        filename: file.filename,
        url: resolve(file.url, pageUrl, api),
        hashes: lowerCase(file.hashes),
        requiresPython: file['requires-python'] ?? undefined,
        yanked: file.yanked === true || file.yanked === '' ? true : typeof file.yanked === 'string' ? file.yanked : undefined,
        coreMetadata: metadata === undefined || metadata === false ? undefined : metadata === true ? {} : lowerCase(metadata),
        gpgSig: file['gpg-sig'],
        extra: Object.fromEntries(Object.entries(file).filter(([key]) => !KNOWN_FILE_FIELDS.has(key)))
      }
    })
  }
}

/** A PEP 503 HTML page: the anchors and their `data-*` attributes. */
export function parseHtml (text: string, kind: PypiDocument['kind'], pageUrl: string, api: PluginApi): PypiDocument {
  const anchors: Array<{ attributes: Record<string, string>, text: string }> = []
  let open: { attributes: Record<string, string>, text: string } | undefined
  let apiVersion = '1.0'
  const parser = new Parser({
    onopentag (name, attributes) {
      if (name === 'a') open = { attributes, text: '' }
      if (name === 'meta' && attributes.name === 'pypi:repository-version' && /^1\.\d+$/.test(attributes.content ?? '')) apiVersion = attributes.content!
    },
    ontext (chunk) { if (open !== undefined) open.text += chunk },
    onclosetag (name) {
      if (name === 'a' && open !== undefined) { anchors.push(open); open = undefined }
    }
  })
  parser.write(text)
  parser.end()

  if (kind === 'index') return { kind, projects: anchors.map((a) => a.text.trim()).filter(Boolean), apiVersion }
  const files = anchors.filter((a) => a.attributes.href !== undefined).map((anchor): ProjectFile => {
    const { href, ...data } = anchor.attributes
    const [location, fragment] = splitFragment(href!)
    const hashes: Hashes = {}
    const hash = /^([a-z0-9_]+)=([0-9a-fA-F]+)$/.exec(fragment ?? '')
    if (hash !== null) hashes[hash[1]!] = hash[2]!.toLowerCase()
    const metadata = data['data-core-metadata'] ?? data['data-dist-info-metadata']
    const url = resolve(location, pageUrl, api)
    return {
      // PEP 503: the anchor's text is the filename; the URL's last segment says the same
      filename: anchor.text.trim() || decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? ''),
      url,
      hashes,
      requiresPython: data['data-requires-python'],
      yanked: data['data-yanked'] === undefined ? undefined : data['data-yanked'] === '' ? true : data['data-yanked'],
      coreMetadata: metadata === undefined || metadata === 'false' ? undefined : metadataHashes(metadata),
      gpgSig: data['data-gpg-sig'] === undefined ? undefined : data['data-gpg-sig'] === 'true',
      extra: {}
    }
  })
  // an HTML page names its project only in its URL (`…/simple/<name>/`)
  const name = new URL(pageUrl).pathname.split('/').filter(Boolean).at(-1) ?? ''
  return { kind, name, files, apiVersion }
}

/** `true` or `sha256=<hex>`. */
function metadataHashes (value: string): Hashes {
  const hash = /^([a-z0-9_]+)=([0-9a-fA-F]+)$/.exec(value)
  return hash === null ? {} : { [hash[1]!]: hash[2]!.toLowerCase() }
}

function splitFragment (href: string): [string, string | undefined] {
  const at = href.indexOf('#')
  return at === -1 ? [href, undefined] : [href.slice(0, at), href.slice(at + 1)]
}

function lowerCase (hashes: Hashes): Hashes {
  return Object.fromEntries(Object.entries(hashes).map(([algorithm, hex]) => [algorithm.toLowerCase(), hex.toLowerCase()]))
}

/** A file URL made absolute against the page it was on; only http(s) is fetched. */
function resolve (href: string, pageUrl: string, api: PluginApi): string {
  let url: URL
  try {
    url = new URL(href, pageUrl)
  } catch {
    throw new api.errors.UpstreamError(`the upstream lists a file at an invalid URL: ${href}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new api.errors.UpstreamError(`the upstream lists a file at a ${url.protocol} URL`)
  url.hash = ''
  return url.href
}
