import { BadRequestError, NotFoundError, UpstreamError } from '../../src/errors.ts'
import type { ArtifactLocation, FormatAdapter, FormatRequest, MetadataTarget, Target } from '../index.ts'
import { publishedDigests } from './integrity.ts'
import { loadPackument, tarballLink, type NpmDocument } from './npm-document.ts'
import { decodeSegments, takePackageName, type PackageName } from './package-name.ts'
import type { PackumentVersion } from './packument.ts'

const ABBREVIATED = 'application/vnd.npm.install-v1+json'
const JSON_TYPE = 'application/json'
/** Packuments change when a version is published; five minutes is what npm's own CDN allows. */
const PACKUMENT_MAX_AGE = 300
const TARBALL_FILE = /^[A-Za-z0-9._~+-]+\.tgz$/

/** The npm registry protocol: packuments (full, abbreviated, one version), tarballs, ping. */
export const npmAdapter: FormatAdapter<NpmDocument> = {
  name: 'npm',
  prefix: '/npm',
  maxDocumentBytes: 256 * 1024 * 1024,

  parse (request: FormatRequest, upstream: string): Target {
    if (request.path === '/-/ping' || request.path === '/-/ping/') {
      return { kind: 'local', status: 200, contentType: JSON_TYPE, body: '{}' }
    }
    const segments = decodeSegments(request.path)
    if (segments[0] === '-') throw new NotFoundError('not found')
    const { pkg, rest } = takePackageName(segments)
    const wantsAbbreviated = (request.headers.get('accept') ?? '').includes(ABBREVIATED)

    if (rest.length === 0) return packument(pkg, upstream, wantsAbbreviated ? 'abbreviated' : 'full')
    if (rest.length === 1) return packument(pkg, upstream, `version:${rest[0]}`)
    if (rest.length === 2 && rest[0] === '-') {
      const file = rest[1]!
      if (!TARBALL_FILE.test(file)) throw new BadRequestError(`invalid tarball name "${file}"`)
      return {
        kind: 'artifact',
        key: `npm:tarball:${pkg.name}/-/${file}`,
        contentType: 'application/octet-stream',
        publishedIn: packument(pkg, upstream, 'full')
      }
    }
    throw new NotFoundError('not found')
  },

  parseDocument: async (bytes) => await loadPackument(bytes),

  locateArtifact (target, doc, upstream): ArtifactLocation | undefined {
    const file = target.key.slice(target.key.lastIndexOf('/') + 1)
    const dist = doc.tarballDist(file)
    if (dist === undefined) return undefined
    const digests = publishedDigests(dist)
    if (digests.length === 0) throw new UpstreamError(`the packument publishes no integrity or shasum for ${file}`)
    // follow the document's link only while it stays on the configured upstream
    const url = dist.tarball.startsWith(upstream)
      ? dist.tarball
      : `${upstream}${doc.name}/-/${encodeURIComponent(file)}`
    return { url, digests }
  },

  renderDocument (target, doc, { baseUrl }) {
    const headers = { vary: 'Accept' }
    if (target.variant === 'abbreviated') {
      return { body: doc.abbreviated(baseUrl), contentType: ABBREVIATED, headers }
    }
    const packument = doc.packument()
    const rewrite = (version: PackumentVersion): PackumentVersion =>
      ({ ...version, dist: { ...version.dist, tarball: tarballLink(baseUrl, packument.name, version.dist.tarball) } })
    if (target.variant.startsWith('version:')) {
      const wanted = target.variant.slice('version:'.length)
      const version = ownValue(packument.versions, wanted) ?? ownValue(packument.versions, ownValue(packument['dist-tags'], wanted) ?? '')
      if (version === undefined) throw new NotFoundError(`version not found: ${wanted}`)
      return { body: JSON.stringify(rewrite(version)), contentType: JSON_TYPE, headers }
    }
    const versions = Object.fromEntries(Object.entries(packument.versions).map(([id, v]) => [id, rewrite(v)]))
    return { body: JSON.stringify({ ...packument, versions }), contentType: JSON_TYPE, headers }
  },

  renderError (error) {
    const message = error.status === 404 && error.message === 'not found' ? 'Not found' : error.message
    return { status: error.status, contentType: JSON_TYPE, body: JSON.stringify({ error: message }) }
  }
}

/** A record's own entry: `/npm/lodash/constructor` is not Object's constructor. */
function ownValue<T> (record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

function packument (pkg: PackageName, upstream: string, variant: string): MetadataTarget {
  return {
    kind: 'metadata',
    key: `npm:packument:${pkg.name}`,
    upstreamUrl: `${upstream}${pkg.escaped}`,
    maxAgeSeconds: PACKUMENT_MAX_AGE,
    variant,
    upstreamHeaders: { accept: JSON_TYPE }
  }
}
