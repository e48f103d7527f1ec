import type { ArtifactTarget, Credentials, FormatAdapter, FormatPluginFactory, FormatRequest, MetadataTarget, Target } from '../index.ts'
import { decodeSegments } from '../path-segments.ts'
import { MANIFEST_TYPES, parseManifest, type Manifest } from './manifest.ts'
import { manifestReferences } from './manifest-references.ts'
import { parseOciPath, type PathError } from './reference.ts'

/** Tags move; a registry mirror asks again after this long. */
const TAG_MAX_AGE = 300
/** A manifest by digest never changes. */
const DIGEST_MAX_AGE = 10 * 365 * 24 * 3600
const JSON_TYPE = 'application/json'
const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' }

const STATUS_OF: Record<PathError, number> = { NAME_INVALID: 400, NAME_UNKNOWN: 404, TAG_INVALID: 400, DIGEST_INVALID: 400, UNSUPPORTED: 404 }

/**
 * The read side of the OCI distribution API on `/v2/`, in front of every registry
 * in `DPM_OCI_UPSTREAMS`: `/v2/<registry-host>/<repo>/…`, or `/v2/<repo>/…?ns=<host>`
 * as containerd asks a mirror. Manifests by tag are documents (revalidated,
 * `STALE` offline); manifests by digest and blobs are immutable and verified
 * against their digest. Manifest bytes go out exactly as the registry sent them.
 */
const ociPlugin: FormatPluginFactory = (api) => {
  const { v, errors } = api

  /** A path error carrying the distribution spec's code for it. */
  const pathError = (code: PathError, message: string): Error & { ociCode: PathError } =>
    Object.assign(STATUS_OF[code] === 404 ? new errors.NotFoundError(message) : new errors.BadRequestError(message), { ociCode: code })

  /** `name=value` pairs, comma separated. */
  const pairs = (check: RegExp, expected: string) => v.pipe(
    v.string(),
    v.transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean)),
    v.check((list) => list.every((p) => check.test(p)), expected),
    v.transform((list) => new Map(list.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])))
  )
  const HOST = '[a-z0-9][a-z0-9.-]*(:\\d+)?'
  const settings = v.object({
    upstreams: v.optional(pairs(new RegExp(`^${HOST}=https?://\\S+$`), 'expected comma-separated registry-host=http(s)://… pairs'), 'docker.io=https://registry-1.docker.io,ghcr.io=https://ghcr.io,quay.io=https://quay.io'),
    credentials: v.optional(pairs(new RegExp(`^${HOST}=[^:,]+:[^,]*$`), 'expected comma-separated registry-host=user:password pairs'), '')
  })

  function adapter (upstreams: Map<string, string>, credentials: Map<string, Credentials>): FormatAdapter<Manifest> {
    const registries = new Set(upstreams.keys())
    const base = (registry: string): string => upstreams.get(registry)!.replace(/\/+$/, '')

    return {
      name: 'oci',
      prefix: '/v2',
      maxDocumentBytes: 4 * 1024 * 1024,

      parse (request: FormatRequest): Target {
        if (request.path === '/' || request.path === '') return { kind: 'local', status: 200, contentType: JSON_TYPE, body: '{}', headers: API_VERSION }
        const segments = decodeSegments(request.path)
        if (segments === undefined) throw pathError('NAME_INVALID', 'malformed percent-encoding in the path')
        const ns = request.query.get('ns')
        const parsed = parseOciPath(segments, ns, registries)
        if (typeof parsed === 'string') throw pathError(parsed, parsed === 'NAME_UNKNOWN' ? `not a registry this node mirrors: ${ns ?? segments[0]}` : `invalid ${parsed === 'UNSUPPORTED' ? 'path' : parsed.split('_')[0]!.toLowerCase()}`)
        const { registry, repository, kind, reference, digest } = parsed
        const url = `${base(registry)}/v2/${repository}/${kind}/${reference}`
        const auth = credentials.get(registry)
        if (kind === 'blobs') {
          const target: ArtifactTarget = {
            kind: 'artifact',
            key: `oci:${registry}/${repository}@${reference}`,
            contentType: 'application/octet-stream',
            location: { url, digests: [digest!], credentials: auth }
          }
          return target
        }
        const target: MetadataTarget = {
          kind: 'metadata',
          key: digest === undefined ? `oci:${registry}/${repository}:${reference}` : `oci:${registry}/${repository}@${reference}`,
          upstreamUrl: url,
          maxAgeSeconds: digest === undefined ? TAG_MAX_AGE : DIGEST_MAX_AGE,
          variant: 'manifest',
          upstreamHeaders: { accept: MANIFEST_TYPES.join(', ') },
          credentials: auth
        }
        return target
      },

      parseDocument: (bytes, target) => parseManifest(bytes, digestInKey(target.key), api),

      locateArtifact: () => undefined,

      references: manifestReferences,

      renderDocument: (_target, manifest) =>
        ({ body: manifest.bytes, contentType: manifest.mediaType, headers: { ...API_VERSION, 'docker-content-digest': manifest.digest } }),

      renderError (error, request) {
        const code = (error as { ociCode?: PathError }).ociCode ?? codeFor(error.status, request.path)
        return { status: error.status, contentType: JSON_TYPE, headers: API_VERSION, body: JSON.stringify({ errors: [{ code, message: error.message }] }) }
      }
    }
  }

  return {
    name: 'oci',
    section: 'oci',
    settings,
    mounts: (s: { upstreams: Map<string, string>, credentials: Map<string, string> }) => {
      const credentials = new Map([...s.credentials].map(([host, pair]) => [host, { username: pair.slice(0, pair.indexOf(':')), password: pair.slice(pair.indexOf(':') + 1) }]))
      return [{ adapter: adapter(s.upstreams, credentials), upstream: `${[...s.upstreams.values()][0] ?? ''}/` }]
    }
  }
}

/** The digest a manifest's key names (`oci:<registry>/<repo>@sha256:<hex>`); a tag's key names none. */
function digestInKey (key: string): { algorithm: 'sha256' | 'sha512', hex: string } | undefined {
  const digest = /@(sha256|sha512):([a-f0-9]+)$/.exec(key)
  return digest === null ? undefined : { algorithm: digest[1] as 'sha256' | 'sha512', hex: digest[2]! }
}

/** The distribution spec's error code for an error of the core's, by status and what was asked for. */
function codeFor (status: number, path: string): string {
  if (status === 404) return /\/blobs\/[^/]*$/.test(path) ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN'
  if (status === 405) return 'UNSUPPORTED'
  if (status === 400) return 'NAME_INVALID'
  if (status === 416) return 'BLOB_UNKNOWN'
  return 'UNKNOWN'
}

export default ociPlugin
