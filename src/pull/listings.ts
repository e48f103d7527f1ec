import { Key, type Datastore } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import * as v from 'valibot'
import type { ArtifactLocation, ListedArtifact } from '../../formats/index.ts'
import { UpstreamError } from '../errors.ts'
import { DigestSchema } from '../index/index-record.ts'
import type { ContentStore } from '../store/content-store.ts'
import type { FormatMount } from './format-mount.ts'

/**
 * What index artifacts list (an apt `Packages` index: every pool file with its
 * SHA256 and size), kept in the datastore by artifact key. A later listing of the
 * same key replaces the earlier one: the newest index says what the file is now.
 */
export interface Listings {
  /**
   * Reads what a stored, verified index artifact lists, in the background; a
   * `locate` meanwhile waits for it. The job is noted before it starts, so one a
   * crash cut short runs again at the next `resume`.
   */
  read(mount: FormatMount, listing: string, cid: CID): Promise<void>
  /** Runs the jobs a stop or a crash left unfinished. */
  resume(mounts: FormatMount[]): Promise<void>
  /** Where the newest listing that names `key` says it lives, after any listing being read now. */
  locate(key: string): Promise<ArtifactLocation | undefined>
  /** Every listed key that starts with `prefix`, with the size its listing gives (the mounted tree's apt pool). */
  list(prefix: string): AsyncIterable<{ key: string, size?: number }>
}

const PREFIX = '/dpm/listings'
const PENDING = '/dpm/listings-pending'
/** Entries written in one datastore batch. */
const BATCH = 4000

const LocationSchema = v.object({ url: v.string(), digests: v.array(DigestSchema), size: v.optional(v.number()) })
const JobSchema = v.object({ prefix: v.string(), listing: v.string(), cid: v.string() })

export function createListings (components: { datastore: Datastore, content: Pick<ContentStore, 'cat'>, log: Logger }): Listings {
  const { datastore, content, log } = components
  const keyOf = (key: string): Key => new Key(`${PREFIX}/${Buffer.from(key).toString('base64url')}`)
  const jobKey = (cid: CID): Key => new Key(`${PENDING}/${cid.toString()}`)
  const reading = new Set<Promise<unknown>>()

  async function write (entries: AsyncIterable<ListedArtifact>): Promise<number> {
    let count = 0
    let batch = datastore.batch()
    for await (const { key, location } of entries) {
      batch.put(keyOf(key), Buffer.from(JSON.stringify({ url: location.url, digests: location.digests, size: location.size })))
      if (++count % BATCH === 0) {
        await batch.commit()
        batch = datastore.batch()
      }
    }
    await batch.commit()
    return count
  }

  async function run (mount: FormatMount, listing: string, cid: CID): Promise<void> {
    const started = performance.now()
    try {
      const entries = await write(mount.adapter.readListing!(listing, content.cat(cid)))
      log.info({ format: mount.adapter.prefix, listing, entries, ms: Math.round(performance.now() - started) }, 'read a listing')
    } catch (err) {
      // the index itself is verified and served; only what it lists stays unknown.
      // One the adapter cannot read is done with; any other failure (the node stopping) is resumed later
      log.warn({ format: mount.adapter.prefix, listing, err: (err as Error).message }, 'could not read a listing')
      if (!(err instanceof UpstreamError)) return
    }
    try {
      await datastore.delete(jobKey(cid))
    } catch {} // stopping: the job runs again at the next start
  }

  function track (job: Promise<void>): void {
    reading.add(job)
    job.catch(() => {}).finally(() => reading.delete(job))
  }

  return {
    async read (mount, listing, cid) {
      if (mount.adapter.readListing === undefined) return
      await datastore.put(jobKey(cid), Buffer.from(JSON.stringify({ prefix: mount.adapter.prefix, listing, cid: cid.toString() })))
      track(run(mount, listing, cid))
    },

    async resume (mounts) {
      for await (const { key, value } of datastore.query({ prefix: PENDING })) {
        const job = v.safeParse(JobSchema, parseJson(value))
        const mount = job.success ? mounts.find((m) => m.adapter.prefix === job.output.prefix) : undefined
        if (!job.success || mount?.adapter.readListing === undefined) {
          await datastore.delete(key)
          continue
        }
        track(run(mount, job.output.listing, CID.parse(job.output.cid)))
      }
    },

    async locate (key) {
      // a pool file asked for while the index naming it is still being read: wait for it
      await Promise.allSettled([...reading])
      let bytes: Uint8Array
      try {
        bytes = await datastore.get(keyOf(key))
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return undefined
        throw err
      }
      const parsed = v.safeParse(LocationSchema, parseJson(bytes))
      return parsed.success ? parsed.output : undefined
    },

    async * list (prefix) {
      // base64 keeps a prefix a prefix only in whole 3-byte groups: query by those, filter the rest
      const bytes = Buffer.from(prefix)
      const head = bytes.subarray(0, bytes.length - (bytes.length % 3)).toString('base64url')
      for await (const { key, value } of datastore.query({ prefix: `${PREFIX}/${head}` })) {
        const name = Buffer.from(key.baseNamespace(), 'base64url').toString('utf8')
        if (!name.startsWith(prefix)) continue
        const parsed = v.safeParse(LocationSchema, parseJson(value))
        yield { key: name, size: parsed.success ? parsed.output.size : undefined }
      }
    }
  }
}

/** A stored value as JSON; a damaged one reads as nothing, which the schema then refuses. */
function parseJson (bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return undefined
  }
}
