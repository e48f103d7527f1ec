import type * as valibot from 'valibot'
import type { BadRequestError, DpmError, NotFoundError, UpstreamError } from '../src/errors.ts'
import type { Digest } from '../src/index/index-record.ts'

export type { Digest }
export type CacheStatus = 'HIT' | 'PEER' | 'MISS' | 'STALE'

/** What an adapter sees of a request: the path exactly as the client sent it, below the prefix. */
export interface FormatRequest {
  method: string
  /** Still percent-encoded, starting with `/` (for `/npm/@scope%2fname` it is `/@scope%2fname`). */
  path: string
  query: URLSearchParams
  headers: Headers
}

/** A mutable document (packument, simple page, tag): upstream-first, revalidated, served stale when the upstream is down. */
export interface MetadataTarget {
  kind: 'metadata'
  /** Index key of the upstream document; variants of one document share it. */
  key: string
  upstreamUrl: string
  /** Seconds a stored copy is served without asking the upstream. */
  maxAgeSeconds: number
  /** Which rendering of the document the client asked for (e.g. full or abbreviated packument). */
  variant: string
  /** Headers sent upstream, e.g. `Accept`. */
  upstreamHeaders?: Record<string, string>
  /** For the upstream's token server, when it asks (OCI registries); anonymous without. */
  credentials?: Credentials
}

/** Content that never changes once published: local-first, verified against its published digest, cached for good. */
export interface ArtifactTarget {
  kind: 'artifact'
  key: string
  contentType: string
  /**
   * The document that publishes this artifact's digests (and usually its upstream
   * URL). Without one, the artifact is found in the listings that other artifacts
   * made (`ArtifactLocation.listing`), by its key: an apt pool file is listed in a
   * `Packages` index the node fetched.
   */
  publishedIn?: MetadataTarget
  /**
   * Where it lives and what it must hash to, when its name says so (an OCI blob is
   * named by its digest): no document is needed to locate it.
   */
  location?: ArtifactLocation
  /**
   * Further documents `locateArtifact` needs, fetched (and cached) the same way:
   * a Cargo index file lists a crate's checksum, but its download URL comes from
   * the registry's `config.json`.
   */
  alsoPublishedIn?: MetadataTarget[]
  /**
   * The upstream may publish other bytes under this name later (an apt index by
   * its fixed name, a third-party pool file overwritten): a stored copy is served
   * only while its digests are still the ones published now.
   */
  republishable?: boolean
}

/** Answered by the adapter alone, without the cache (e.g. `npm ping`). */
export interface LocalTarget {
  kind: 'local'
  status: number
  contentType: string
  body: string
  /** e.g. `Location` for a redirect to a name's normal form. */
  headers?: Record<string, string>
}

export type Target = MetadataTarget | ArtifactTarget | LocalTarget

/** Where an artifact lives upstream and what it must hash to. */
export interface ArtifactLocation {
  /** Absolute, or relative to the mount's upstream. */
  url: string
  digests: Digest[]
  size?: number
  /**
   * This artifact lists others with their digests (an apt `Packages` index): once
   * it is verified, its bytes go through `adapter.readListing(listing, …)`, and the
   * artifacts it lists can be located from then on. Opaque to the core.
   */
  listing?: string
  /** For the upstream's token server, when it asks. */
  credentials?: Credentials
}

/** A user name and password for a registry's token server. */
export interface Credentials { username: string, password: string }

/** One artifact an index artifact lists: its key and where it lives (URL relative to the upstream). */
export interface ListedArtifact {
  key: string
  location: ArtifactLocation
}

export interface RenderContext {
  /** `DPM_PUBLIC_URL` plus the adapter's prefix, with a trailing slash: `http://host:8484/npm/`. */
  baseUrl: string
}

export interface RenderedDocument {
  body: string | Uint8Array
  contentType: string
  headers?: Record<string, string>
}

/**
 * A registry format, declared rather than programmed: the core owns fetching,
 * caching, single-flight, verification and the swarm. Adapters are pure: no I/O,
 * no state. A new format is a new folder under `formats/`.
 *
 * `Doc` is the adapter's parsed form of its metadata documents; the core parses
 * each stored document once and memoizes the result by content.
 */
export interface FormatAdapter<Doc = unknown> {
  /** Short name used in metrics and logs: `npm`. */
  readonly name: string
  /** Gateway path prefix without a trailing slash: `/npm`. */
  readonly prefix: string
  /** The largest metadata document the node will buffer (and rewrite) for this format. */
  readonly maxDocumentBytes: number

  /** Turns a request into a target; throws `BadRequestError`/`NotFoundError` for bad input. Must not do I/O. */
  parse(request: FormatRequest, upstream: string): Target

  /**
   * Parses an upstream metadata document; throws (or rejects with) `UpstreamError`
   * if it is malformed. A promise lets a large document be parsed off the event
   * loop; `bytes` stay unchanged until it settles.
   */
  parseDocument(bytes: Uint8Array, target: MetadataTarget): Doc | Promise<Doc>

  /**
   * Where the document says the artifact lives and its digests; undefined when it
   * does not list it. `others` are the documents of `alsoPublishedIn`, in order.
   */
  locateArtifact(target: ArtifactTarget, doc: Doc, upstream: string, others: Doc[]): ArtifactLocation | undefined

  /** The document the client receives: the requested variant, with links rewritten to the node. */
  renderDocument(target: MetadataTarget, doc: Doc, context: RenderContext): RenderedDocument

  /**
   * The artifacts an index artifact lists (see `ArtifactLocation.listing`), read
   * from its verified bytes. Throws `UpstreamError` if they cannot be read.
   */
  readListing?(listing: string, bytes: AsyncIterable<Uint8Array>): AsyncIterable<ListedArtifact>

  /**
   * The keys a stored metadata document names, which a pin of it keeps too (an
   * image's manifests, config and layers), read from the bytes the upstream
   * sent. Bytes it cannot read name nothing. Keys of a format begin `<name>:`.
   */
  references?(key: string, bytes: Uint8Array): string[]

  /** An error in the format's own shape (npm: `{"error": "..."}`), for the request that met it. */
  renderError(error: DpmError, request: FormatRequest): { status: number, contentType: string, body: string, headers?: Record<string, string> }
}

/** An adapter with the upstream it serves: one per prefix. */
export interface FormatMount<Doc = any> {
  adapter: FormatAdapter<Doc>
  /** Base URL of the upstream, with a trailing slash. */
  upstream: string
}

/**
 * What the node hands a plugin: the error classes the core maps to responses
 * (throw them from `parse`, `parseDocument` and `locateArtifact`) and valibot
 * for the settings schema. A plugin needs nothing else from the core at run time.
 */
export interface PluginApi {
  errors: {
    BadRequestError: typeof BadRequestError
    NotFoundError: typeof NotFoundError
    UpstreamError: typeof UpstreamError
  }
  v: typeof valibot
}

/**
 * A format plugin: an npm package whose default export is `(api) => FormatPlugin`.
 * Its settings come from the YAML section named `section` and from environment
 * variables `DPM_<SECTION>_<KEY>` (`cargo` + `upstreams` → `DPM_CARGO_UPSTREAMS`).
 */
export interface FormatPlugin<Settings = any> {
  /** The plugin's name in messages, logs and metrics. */
  readonly name: string
  /** Its settings section: a lower-case word, also the environment prefix. */
  readonly section: string
  /** A valibot object schema of the section, keys in snake_case; values from the environment arrive as strings. */
  readonly settings: valibot.GenericSchema<Record<string, unknown>, Settings>
  /** The adapters to mount, each under its own prefix, with their upstreams. */
  mounts(settings: Settings): FormatMount[]
}

export type FormatPluginFactory = (api: PluginApi) => FormatPlugin
