import type { ArtifactTarget, FormatAdapter, FormatMount, FormatPluginFactory, MetadataTarget, Target } from '../index.ts'
import { namedUpstreams } from '../named-upstreams.ts'
import { decodeSegments, isUnsafeSegment } from '../path-segments.ts'
import { downloadUrl, parseConfig, parseIndexFile, type CargoDocument } from './documents.ts'
import { crateOfIndexPath, indexPath, isCrateName } from './index-path.ts'

/** Index files change when a version is published; cargo revalidates them with ETags anyway. */
const INDEX_MAX_AGE = 60
const CONFIG_MAX_AGE = 3600
const VERSION = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/
const JSON_TYPE = 'application/json'

/**
 * Cargo's sparse registry protocol, one mount per upstream (`/cargo/<name>`):
 * `config.json` rewritten so downloads come to the node, index files served as
 * they are, `.crate` downloads verified against the index's `cksum`. Built on the
 * plugin API alone, as an outside plugin would be.
 */
const cargoPlugin: FormatPluginFactory = (api) => {
  const { v, errors } = api
  const { BadRequestError, NotFoundError } = errors

  const upstreams = namedUpstreams(v, 'sparse+')

  function adapter (name: string): FormatAdapter<CargoDocument> {
    const config = (upstream: string): MetadataTarget => ({ kind: 'metadata', key: `cargo:${name}:config`, upstreamUrl: `${upstream}config.json`, maxAgeSeconds: CONFIG_MAX_AGE, variant: 'config' })
    const indexFile = (upstream: string, crate: string): MetadataTarget => ({ kind: 'metadata', key: `cargo:${name}:index:${crate.toLowerCase()}`, upstreamUrl: `${upstream}${indexPath(crate)}`, maxAgeSeconds: INDEX_MAX_AGE, variant: 'index' })

    return {
      name: 'cargo',
      prefix: `/cargo/${name}`,
      maxDocumentBytes: 64 * 1024 * 1024,

      parse (request, upstream): Target {
        const segments = decodeSegments(request.path)
        if (segments === undefined) throw new BadRequestError('malformed percent-encoding in the path')
        if (segments.some((s) => s === '' || isUnsafeSegment(s))) throw new BadRequestError('invalid path')
        if (segments.length === 1 && segments[0] === 'config.json') return config(upstream)
        if (segments[0] === 'api') {
          const [, v1, crates, crate, version, download] = segments
          if (segments.length !== 6 || v1 !== 'v1' || crates !== 'crates' || download !== 'download') throw new NotFoundError('not found: this mirror serves only the index and downloads')
          if (!isCrateName(crate!)) throw new BadRequestError(`invalid crate name "${crate}"`)
          if (!VERSION.test(version!)) throw new BadRequestError(`invalid version "${version}"`)
          const target: ArtifactTarget = {
            kind: 'artifact',
            key: `cargo:${name}:crate:${crate!.toLowerCase()}-${version}`,
            contentType: 'application/gzip',
            publishedIn: indexFile(upstream, crate!),
            alsoPublishedIn: [config(upstream)]
          }
          return target
        }
        const crate = crateOfIndexPath(segments)
        if (crate === undefined) throw new NotFoundError('not found')
        return indexFile(upstream, crate)
      },

      parseDocument: (bytes, target) => target.variant === 'config' ? parseConfig(bytes, api) : parseIndexFile(bytes),

      locateArtifact (target, doc, _upstream, [registry]) {
        if (doc.kind !== 'index' || registry?.kind !== 'config') return undefined
        const [, rest] = target.key.split(':crate:')
        const entry = doc.entries.find((e) => `${e.name.toLowerCase()}-${e.vers}` === rest)
        if (entry === undefined) return undefined
        return { url: downloadUrl(registry.dl, entry.name, entry.vers, entry.cksum), digests: [{ algorithm: 'sha256', hex: entry.cksum }] }
      },

      renderDocument (_target, doc, { baseUrl }) {
        if (doc.kind === 'index') return { body: doc.bytes, contentType: 'text/plain; charset=utf-8' }
        // downloads come to this node; the web API (publish, yank, login) is the upstream's business, not a mirror's
        const { api: _api, ...fields } = doc.fields
        return { body: JSON.stringify({ ...fields, dl: `${baseUrl}api/v1/crates` }), contentType: JSON_TYPE }
      },

      renderError (error) {
        // cargo shows `errors[].detail` from registry answers
        return { status: error.status, contentType: JSON_TYPE, body: JSON.stringify({ errors: [{ detail: error.message }] }) }
      }
    }
  }

  return {
    name: 'cargo',
    section: 'cargo',
    settings: v.object({ upstreams: v.optional(upstreams, 'crates-io=sparse+https://index.crates.io/') }),
    mounts: (settings: { upstreams: Array<{ name: string, url: string }> }): FormatMount[] =>
      settings.upstreams.map((u) => ({ adapter: adapter(u.name), upstream: u.url }))
  }
}

export default cargoPlugin
