import { isPackageName, isPackageVersion, isRepositoryName } from '../../src/catalog/dds-package-id.ts'
import type { ArtifactTarget, FormatAdapter, FormatMount, FormatPluginFactory, MetadataTarget, Target } from '../index.ts'
import { namedUpstreams } from '../named-upstreams.ts'
import { decodeSegments, isUnsafeSegment } from '../path-segments.ts'
import { packageId, parseRepoDb, type RepoDbDocument } from './repo-db-document.ts'

/** A repository changes when its owner runs repoman; dds itself asks on every `pkg repo update`. */
const REPO_DB_MAX_AGE = 300
const JSON_TYPE = 'application/json'
/** The mount's upstream: its repositories are named in the path, each with its own URL. */
const NO_SINGLE_UPSTREAM = 'dds:'

export interface DdsPluginComponents {
  /**
   * Repositories known at run time besides `DPM_DDS_UPSTREAMS` (those added
   * with `dpm repo add --format dds`), asked on each request; a configured name wins.
   */
  repositories?: () => Iterable<{ name: string, url: string }>
}

/**
 * dds repositories (`/dds/<name>/`): `repo.db.gz` is metadata (revalidated,
 * STALE when the repository is down, shared as a manifest), each
 * `pkg/<pkg>/<version>/sdist.tar.gz` an artifact verified against the sha256
 * DPM's repoman records beside dds's tables. One mount serves every repository,
 * so ones added while the node runs are served too. Built on the plugin API.
 */
export function createDdsPlugin (components: DdsPluginComponents = {}): FormatPluginFactory {
  return (api) => {
    const { v, errors } = api
    const { BadRequestError, NotFoundError, UpstreamError } = errors

    function adapter (configured: Map<string, string>): FormatAdapter<RepoDbDocument> {
      const urlOf = (name: string): string | undefined => {
        const known = configured.get(name)
        if (known !== undefined) return known
        for (const r of components.repositories?.() ?? []) if (r.name === name) return r.url.endsWith('/') ? r.url : `${r.url}/`
        return undefined
      }
      const repoDb = (name: string, url: string): MetadataTarget => ({ kind: 'metadata', key: `dds:${name}:repo.db`, upstreamUrl: new URL('repo.db.gz', url).href, maxAgeSeconds: REPO_DB_MAX_AGE, variant: 'repo.db.gz' })

      return {
        name: 'dds',
        prefix: '/dds',
        maxDocumentBytes: 64 * 1024 * 1024,

        parse (request): Target {
          const segments = decodeSegments(request.path)
          if (segments === undefined) throw new BadRequestError('malformed percent-encoding in the path')
          if (segments.some((s) => s === '' || isUnsafeSegment(s))) throw new BadRequestError('invalid path')
          const [name, ...rest] = segments
          if (!isRepositoryName(name!)) throw new BadRequestError(`invalid repository name "${name!.slice(0, 64)}"`)
          if (rest.length === 1 && rest[0] === 'repo.db.gz') return repoDb(name!, known(name!))
          if (rest.length === 4 && rest[0] === 'pkg' && rest[3] === 'sdist.tar.gz') {
            const [, pkg, version] = rest as [string, string, string, string]
            if (!isPackageName(pkg)) throw new BadRequestError(`invalid package name "${pkg.slice(0, 128)}"`)
            if (!isPackageVersion(version)) throw new BadRequestError(`invalid version "${version.slice(0, 128)}"`)
            const target: ArtifactTarget = { kind: 'artifact', key: `dds:${name!}:pkg:${packageId(pkg, version)}`, contentType: 'application/gzip', publishedIn: repoDb(name!, known(name!)) }
            return target
          }
          throw new NotFoundError('not found: a dds repository serves repo.db.gz and pkg/<name>/<version>/sdist.tar.gz')

          function known (repo: string): string {
            const url = urlOf(repo)
            if (url === undefined) throw new NotFoundError(`no dds repository "${repo}" on this node`)
            return url
          }
        },

        parseDocument: (bytes) => parseRepoDb(bytes, api),

        locateArtifact (target, doc) {
          const id = target.key.slice(target.key.indexOf(':pkg:') + ':pkg:'.length)
          const listed = doc.packages.get(id)
          if (listed === undefined) return undefined
          if (listed.sha256 === undefined) {
            // nothing to verify against, and the node stores nothing unverified
            throw new UpstreamError(`the repository publishes no sha256 for ${id} (repositories built by dpm repoman do): not served`)
          }
          const [pkg, version] = [id.slice(0, id.lastIndexOf('@')), id.slice(id.lastIndexOf('@') + 1)]
          return { url: new URL(`pkg/${pkg}/${version}/sdist.tar.gz`, target.publishedIn!.upstreamUrl).href, digests: [{ algorithm: 'sha256', hex: listed.sha256 }], size: listed.size }
        },

        // dds reads the database as it is: `dds:` URLs resolve against the repository's own URL, here the node's
        renderDocument: (_target, doc) => ({ body: doc.bytes, contentType: 'application/gzip' }),

        renderError: (error) => ({ status: error.status, contentType: JSON_TYPE, body: JSON.stringify({ error: error.message }) })
      }
    }

    return {
      name: 'dds',
      section: 'dds',
      settings: v.object({ upstreams: v.optional(namedUpstreams(v), '') }),
      mounts: (settings: { upstreams: Array<{ name: string, url: string }> }): FormatMount[] =>
        [{ adapter: adapter(new Map(settings.upstreams.map((u) => [u.name, u.url]))), upstream: NO_SINGLE_UPSTREAM }]
    }
  }
}

export default createDdsPlugin()
