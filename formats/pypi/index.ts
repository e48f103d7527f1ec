import Negotiator from 'negotiator'
import type { ArtifactTarget, FormatAdapter, FormatPluginFactory, MetadataTarget, Target } from '../index.ts'
import { decodeSegments, isUnsafeSegment } from '../path-segments.ts'
import { isJson, parseHtml, parseJson, type PypiDocument } from './documents.ts'
import { isProjectName, normalizeProjectName } from './project-name.ts'
import { CONTENT_TYPES, renderIndexHtml, renderIndexJson, renderProjectHtml, renderProjectJson, type Form } from './render.ts'

/** Simple pages change when a release is uploaded; PyPI's own CDN keeps them 10 minutes. */
const PAGE_MAX_AGE = 600
/** JSON first (it carries PEP 700's fields), HTML from an index that has only that. */
const UPSTREAM_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1'
/** In order of preference when the client states none: HTML, as PyPI answers a plain request. */
const FORMS: Form[] = ['html', 'v1html', 'json']
const TEXT = 'text/plain; charset=utf-8'
const METADATA_SUFFIX = '.metadata'

/**
 * The Python simple repository API (PEP 503 HTML, PEP 691 JSON, PEP 658/714
 * metadata files, PEP 700 fields) on `/pypi/`: pages in the form the client's
 * `Accept` asks for whichever the upstream speaks, file links rewritten to
 * `/pypi/files/<project>/<filename>` and verified against their published sha256.
 */
const pypiPlugin: FormatPluginFactory = (api) => {
  const { v, errors } = api
  const { BadRequestError, NotFoundError } = errors

  const httpUrl = v.pipe(
    v.string(),
    v.trim(),
    v.check((url) => { try { return ['http:', 'https:'].includes(new URL(url).protocol) } catch { return false } }, 'expected an http(s) URL'),
    v.transform((url) => url.endsWith('/') ? url : `${url}/`)
  )

  const page = (key: string, upstreamUrl: string, form: Form): MetadataTarget =>
    ({ kind: 'metadata', key, upstreamUrl, maxAgeSeconds: PAGE_MAX_AGE, variant: form, upstreamHeaders: { accept: UPSTREAM_ACCEPT } })
  const projectPage = (upstream: string, project: string, form: Form): MetadataTarget =>
    page(`pypi:project:${project}`, `${upstream}${project}/`, form)

  const redirect = (location: string): Target =>
    ({ kind: 'local', status: 301, contentType: TEXT, body: `moved to ${location}\n`, headers: { location } })

  function formFor (accept: string | null): Form | undefined {
    // `latest` names the newest version of the API, which is v1
    const header = (accept ?? '*/*').replaceAll('.latest+', '.v1+')
    const chosen = new Negotiator({ headers: { accept: header } }).mediaType(FORMS.map((f) => CONTENT_TYPES[f]))
    return FORMS.find((f) => CONTENT_TYPES[f] === chosen)
  }

  const adapter: FormatAdapter<PypiDocument> = {
    name: 'pypi',
    prefix: '/pypi',
    // PyPI's full project list is ~30 MB of HTML
    maxDocumentBytes: 128 * 1024 * 1024,

    parse (request, upstream): Target {
      const segments = decodeSegments(request.path)
      if (segments === undefined) throw new BadRequestError('malformed percent-encoding in the path')
      if (segments.some(isUnsafeSegment)) throw new BadRequestError('invalid path')
      const [area, project, filename, ...rest] = segments

      if (area === 'simple') {
        const form = formFor(request.headers.get('accept'))
        if (form === undefined) {
          return { kind: 'local', status: 406, contentType: TEXT, body: `not acceptable: this index answers ${FORMS.map((f) => CONTENT_TYPES[f]).join(', ')}\n` }
        }
        if (segments.length === 1) return redirect('simple/')
        if (project === '' && segments.length === 2) return page('pypi:index', upstream, form)
        if (project === undefined || project === '' || !isProjectName(project)) throw new BadRequestError(`invalid project name "${project ?? ''}"`)
        const normal = normalizeProjectName(project)
        const trailing = segments.length === 3 && filename === ''
        if (segments.length > 3 || (segments.length === 3 && !trailing)) throw new NotFoundError('not found')
        // PEP 503: the normal form, with a trailing slash, is the page's one URL
        if (!trailing) return redirect(`${encodeURIComponent(normal)}/`)
        if (normal !== project) return redirect(`../${encodeURIComponent(normal)}/`)
        return projectPage(upstream, normal, form)
      }

      if (area === 'files' && segments.length === 3 && project !== undefined && filename !== undefined) {
        if (!isProjectName(project) || normalizeProjectName(project) !== project) throw new BadRequestError(`invalid project name "${project}"`)
        if (filename === '' || filename.length > 255 || rest.length > 0) throw new BadRequestError('invalid filename')
        const target: ArtifactTarget = {
          kind: 'artifact',
          key: `pypi:file:${project}/${filename}`,
          contentType: 'application/octet-stream',
          publishedIn: projectPage(upstream, project, 'json')
        }
        return target
      }
      throw new NotFoundError('not found: this mirror serves /pypi/simple/ and /pypi/files/')
    },

    parseDocument (bytes, target) {
      const kind = target.key === 'pypi:index' ? 'index' : 'project'
      const text = new TextDecoder().decode(bytes)
      return isJson(bytes) ? parseJson(text, kind, target.upstreamUrl, api) : parseHtml(text, kind, target.upstreamUrl, api)
    },

    locateArtifact (target, doc) {
      if (doc.kind !== 'project') return undefined
      const filename = target.key.slice(target.key.indexOf('/') + 1)
      const file = doc.files.find((f) => f.filename === filename)
      if (file !== undefined) return { url: file.url, digests: digestsOf(file.hashes) }
      // PEP 658: `<file>.metadata` beside a file that says it has one
      if (!filename.endsWith(METADATA_SUFFIX)) return undefined
      const of = doc.files.find((f) => f.filename === filename.slice(0, -METADATA_SUFFIX.length))
      if (of?.coreMetadata === undefined) return undefined
      return { url: `${of.url}${METADATA_SUFFIX}`, digests: digestsOf(of.coreMetadata) }
    },

    renderDocument (target, doc, { baseUrl }) {
      const form = target.variant as Form
      const json = form === 'json'
      const body = doc.kind === 'index'
        ? (json ? renderIndexJson(doc) : renderIndexHtml(doc))
        : (json ? renderProjectJson(doc, baseUrl) : renderProjectHtml(doc, baseUrl))
      return { body, contentType: json ? CONTENT_TYPES.json : `${CONTENT_TYPES[form]}; charset=utf-8`, headers: { vary: 'Accept' } }
    },

    renderError (error) {
      return { status: error.status, contentType: TEXT, body: `${error.message}\n` }
    }
  }

  return {
    name: 'pypi',
    section: 'pypi',
    settings: v.object({ upstream: v.optional(httpUrl, 'https://pypi.org/simple/') }),
    mounts: (settings: { upstream: string }) => [{ adapter, upstream: settings.upstream }]
  }
}

/** The published hashes this node can check (sha256, as PEP 503 asks, or sha512). */
function digestsOf (hashes: Record<string, string>): Array<{ algorithm: 'sha256' | 'sha512', hex: string }> {
  return (['sha256', 'sha512'] as const).filter((a) => hashes[a] !== undefined && /^[0-9a-f]+$/.test(hashes[a])).map((algorithm) => ({ algorithm, hex: hashes[algorithm]! }))
}

export default pypiPlugin
