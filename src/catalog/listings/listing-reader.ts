import type { UpstreamClient } from '../../pull/upstream-client.ts'
import type { PulledSource, Repository, SourceValidators } from '../repository.ts'

export interface ListingContext {
  upstream: Pick<UpstreamClient, 'fetch'>
  /** Where a reader may put temporary files (it removes its own). */
  tmpDir: string
  signal: AbortSignal
}

export interface PulledListing {
  /** One per listing document: pulled, or answered 304 (`packages` undefined). */
  sources: PulledSource[]
  /** The name the repository gives itself, where its format has one. */
  declaredName?: string
}

/** Reads one kind of repository's listing; `previous` are the validators of the last pull, to ask conditionally. */
export type ListingReader = (repository: Repository, previous: SourceValidators[], context: ListingContext) => Promise<PulledListing>

/** The largest listing document the catalog downloads (Debian main's `Packages.gz` is ~10 MB, PyPI's root page ~30 MB). */
export const MAX_LISTING_BYTES = 512 * 1024 * 1024
