import type { ArtifactTarget, FormatAdapter, FormatMount, FormatPluginFactory, MetadataTarget, Target } from '../index.ts'
import { namedUpstreams } from '../named-upstreams.ts'
import { decodeSegments, encodeSegments, isUnsafeSegment } from '../path-segments.ts'
import { hostSources } from './host-sources.ts'
import { LISTING, readListing } from './listing.ts'
import { parseRelease, type ReleaseFile, type SignatureFile } from './release-file.ts'

type AptDocument = ReleaseFile | SignatureFile

/** Debian's archive changes a few times a day, its security archive more often: apt asks at every `update`. */
const RELEASE_MAX_AGE = 120
const TEXT = 'text/plain; charset=utf-8'
/** A Map, not an object: the name comes from the path, and `by-hash/constructor/…` names no algorithm. */
const BY_HASH = new Map<string, 'sha256' | 'sha512'>([['SHA256', 'sha256'], ['SHA512', 'sha512']])
const HEX = { sha256: /^[0-9a-f]{64}$/, sha512: /^[0-9a-f]{128}$/ }

/** An index of pool files (`Packages*`, `Sources*`) is read into the listings, by its path below the suite. */
const listingOf = (path: string): string | undefined => LISTING.test(path) ? path : undefined


function contentTypeOf (file: string): string {
  if (file.endsWith('.deb') || file.endsWith('.udeb')) return 'application/vnd.debian.binary-package'
  if (file.endsWith('.xz')) return 'application/x-xz'
  if (file.endsWith('.gz')) return 'application/gzip'
  if (file.endsWith('.dsc')) return TEXT
  return 'application/octet-stream'
}

/**
 * apt repositories, one mount per upstream (`/apt/<name>`), every byte passed
 * through unchanged (apt checks the signatures). `InRelease`, `Release` and
 * `Release.gpg` are mutable documents; every index below them is verified against
 * the SHA256 and size `InRelease` gives it (by-hash files are immutable, fixed
 * names are fetched again when `InRelease` names other bytes); a pool file is
 * verified against its entry in a `Packages` or `Sources` index this node fetched.
 */
const aptPlugin: FormatPluginFactory = (api) => {
  const { v, errors } = api
  const { BadRequestError, NotFoundError } = errors

  const upstreams = namedUpstreams(v)

  function adapter (name: string): FormatAdapter<AptDocument> {
    const keyPrefix = `apt:${name}:`
    const releaseDoc = (upstream: string, suite: string, file: string): MetadataTarget =>
      ({ kind: 'metadata', key: `${keyPrefix}dists/${suite}/${file}`, upstreamUrl: `${upstream}${encodeSegments(['dists', suite, file])}`, maxAgeSeconds: RELEASE_MAX_AGE, variant: file })

    return {
      name: 'apt',
      prefix: `/apt/${name}`,
      maxDocumentBytes: 16 * 1024 * 1024,

      parse (request, upstream): Target {
        const segments = decodeSegments(request.path)
        if (segments === undefined) throw new BadRequestError('malformed percent-encoding in the path')
        if (segments.some((s) => s === '' || isUnsafeSegment(s) || s.length > 255)) throw new BadRequestError('invalid path')
        const [area, suite, ...rest] = segments
        if (area === 'dists' && suite !== undefined && rest.length > 0) {
          if (rest.length === 1 && (rest[0] === 'InRelease' || rest[0] === 'Release' || rest[0] === 'Release.gpg')) return releaseDoc(upstream, suite, rest[0])
          const byHash = rest.length >= 3 && rest.at(-3) === 'by-hash'
          if (byHash) {
            const algorithm = BY_HASH.get(rest.at(-2)!)
            if (algorithm === undefined || !HEX[algorithm].test(rest.at(-1)!)) throw new BadRequestError('invalid by-hash path: SHA256 or SHA512 and a lower-case hex digest')
          }
          const target: ArtifactTarget = {
            kind: 'artifact',
            key: `${keyPrefix}${segments.join('/')}`,
            contentType: byHash ? 'application/octet-stream' : contentTypeOf(rest.at(-1)!),
            publishedIn: releaseDoc(upstream, suite, 'InRelease'),
            // a fixed name is the newest index under that name; a by-hash name is its digest
            republishable: !byHash
          }
          return target
        }
        if (area === 'pool' && segments.length >= 3) {
          const target: ArtifactTarget = { kind: 'artifact', key: `${keyPrefix}${segments.join('/')}`, contentType: contentTypeOf(segments.at(-1)!), republishable: true }
          return target
        }
        throw new NotFoundError('not found: an apt repository serves dists/ and pool/')
      },

      parseDocument: (bytes, target) => target.variant === 'Release.gpg' ? { kind: 'signature', bytes } : parseRelease(bytes),

      locateArtifact (target, doc) {
        if (doc.kind !== 'release') return undefined
        const [, suite, ...rest] = target.key.slice(keyPrefix.length).split('/')
        const url = encodeSegments(['dists', suite!, ...rest])
        if (rest.at(-3) === 'by-hash') {
          const algorithm = BY_HASH.get(rest.at(-2)!)! // parse let no other name through
          const hex = rest.at(-1)!
          const directory = rest.slice(0, -3).join('/')
          // what InRelease lists under that digest, in that directory: an index whose size and kind are known
          const entry = algorithm === 'sha256' ? [...doc.entries.values()].find((e) => e.sha256 === hex && e.path.slice(0, e.path.lastIndexOf('/')) === directory) : undefined
          if (entry === undefined) return { url, digests: [{ algorithm, hex }] } // no longer listed (a pdiff, an older index): the name is its digest
          return { url, digests: [{ algorithm, hex }], size: entry.size, listing: listingOf(entry.path) }
        }
        const entry = doc.entries.get(rest.join('/'))
        if (entry === undefined) return undefined
        return { url, digests: [{ algorithm: 'sha256', hex: entry.sha256 }], size: entry.size, listing: listingOf(entry.path) }
      },

      readListing: (listing, bytes) => readListing(listing, bytes, `${keyPrefix}`, api),

      renderDocument: (target, doc) =>
        ({ body: doc.bytes, contentType: doc.kind === 'signature' ? 'application/pgp-signature' : TEXT }),

      renderError: (error) => ({ status: error.status, contentType: TEXT, body: `${error.message}\n` })
    }
  }

  return {
    name: 'apt',
    section: 'apt',
    settings: v.object({ upstreams: v.optional(upstreams, () => hostSources()) }),
    mounts: (settings: { upstreams: Array<{ name: string, url: string }> }): FormatMount[] =>
      settings.upstreams.map((u) => ({ adapter: adapter(u.name), upstream: u.url }))
  }
}

export default aptPlugin
