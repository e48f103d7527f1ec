import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { IndexRecord } from '../index/index-record.ts'
import type { LocalIndex } from '../index/local-index.ts'
import type { BlocksInUse } from './blocks-in-use.ts'
import { dagBlocks } from './dag-blocks.ts'
import type { ReadLeases } from './read-leases.ts'
import type { UseClock } from './use-clock.ts'
import type { BlockFile, WholeFileBlockstore } from './whole-file-blockstore.ts'

export interface CollectReport {
  /** Records evicted, least recently used first. */
  evicted: Array<{ key: string, size: number }>
  /** Block files deleted: those of evicted records and orphans no record names. */
  deletedBlocks: number
  freedBytes: number
  usedBytes: number
  limitBytes: number
  /** Still over the limit: what is left is pinned, being read, or used moments ago. */
  overLimit: boolean
}

/**
 * Keeps the store under `DPM_MAX_STORE`. A collection marks every block some
 * index record names (walking only the small dag-pb nodes), evicts records least
 * recently used first — never a pinned one, one being read, or one used moments
 * ago — until the store would be back under its low-water mark, and deletes the
 * blocks no remaining record names. A record leaves the index before its blocks
 * leave the disk, so no record ever names blocks that are gone; a crash between
 * the two leaves only orphans, which a later collection deletes.
 */
export interface StoreKeeper {
  readonly limitBytes: number
  usedBytes(): number
  /** Collects now: after any collection already under way (which began before the caller asked), a fresh one that callers meanwhile share. */
  collect(): Promise<CollectReport>
  /** Something was stored: collect soon if the store is over its limit. */
  stored(): void
}

export interface StoreKeeperComponents {
  index: Pick<LocalIndex, 'all' | 'delete'>
  blockFiles: Pick<WholeFileBlockstore, 'bytes' | 'list' | 'remove' | 'nameOf' | 'get'>
  /** The keys pins keep, of the index's `records`: what was pinned, and what a pinned document names (`src/pull/pinned-keys.ts`). */
  pinned: (records: ReadonlyMap<string, IndexRecord>) => Promise<ReadonlySet<string>>
  clock: UseClock
  leases: Pick<ReadLeases, 'held'>
  inUse: BlocksInUse
  /** Blocks kept beside the records' own: the swarm's index snapshot and metadata manifests. */
  alsoLive?: () => Iterable<CID>
  /** A record was evicted: tell the swarm, count it. */
  onEvict?: (record: IndexRecord) => void
  log: Logger
  now?: () => number
}

export interface StoreKeeperInit {
  limitBytes: number
  /** A collection frees down to this share of the limit, so it does not run again at the next fill. */
  lowWater?: number
  /**
   * Orphans (blocks no record names) younger than this are left: an import or a
   * transfer from peers may be about to name them. Git keeps loose objects two
   * weeks for the same reason; an hour outlasts any fill here.
   */
  orphanGraceMs?: number
  /** Records used this recently are not evicted: a client just looked them up. */
  recentMs?: number
}

/**
 * A store over its limit with nothing it may evict (all pinned, being read or
 * just used) would otherwise mark the whole index again after every fill.
 */
const STUCK_BACKOFF_MS = 30_000

export function createStoreKeeper (components: StoreKeeperComponents, init: StoreKeeperInit): StoreKeeper {
  const { index, blockFiles, clock, leases, inUse, log } = components
  const now = components.now ?? Date.now
  const { limitBytes } = init
  const lowWater = Math.floor(limitBytes * (init.lowWater ?? 0.9))
  const orphanGraceMs = init.orphanGraceMs ?? 3_600_000
  const recentMs = init.recentMs ?? 10_000
  let running: Promise<CollectReport> | undefined
  let again = false
  /** After a collection that could not get under the limit, fills start another only later, or once the store grew by a tenth of its limit. */
  let stuck: { until: number, bytes: number } | undefined

  const readBlock = async (cid: CID): Promise<Uint8Array> => {
    const chunks: Uint8Array[] = []
    for await (const chunk of blockFiles.get(cid)) chunks.push(chunk)
    return Buffer.concat(chunks)
  }

  /** The block files each record's DAG is made of; a record whose blocks are gone is dropped from the index. */
  async function mark (records: IndexRecord[]): Promise<Map<string, string[]>> {
    const blocksOf = new Map<string, string[]>()
    for (const record of records) {
      try {
        const names = new Set<string>()
        for await (const cid of dagBlocks(CID.parse(record.cid), readBlock)) names.add(blockFiles.nameOf(cid))
        blocksOf.set(record.key, [...names])
      } catch (err) {
        if ((err as Error).name !== 'NotFoundError') throw err
        log.warn({ key: record.key, cid: record.cid }, 'a record named blocks that are gone: removed from the index')
        await index.delete(record.key)
      }
    }
    return blocksOf
  }

  async function run (): Promise<CollectReport> {
    const started = now()
    const records: IndexRecord[] = []
    for await (const record of index.all()) records.push(record)
    const uses = await clock.all()
    const blocksOf = await mark(records)
    const refs = new Map<string, number>()
    for (const names of blocksOf.values()) for (const name of names) refs.set(name, (refs.get(name) ?? 0) + 1)
    const kept = new Set([...components.alsoLive?.() ?? []].map((cid) => blockFiles.nameOf(cid)))
    const named = (name: string): boolean => (refs.get(name) ?? 0) > 0 || kept.has(name) || inUse.has(name)

    const files = new Map((await blockFiles.list()).map((file) => [file.name, file]))
    // file times are the wall clock's, whatever clock orders uses
    const doomed: BlockFile[] = [...files.values()].filter((f) => !named(f.name) && f.mtimeMs < Date.now() - orphanGraceMs)
    let projected = blockFiles.bytes - doomed.reduce((sum, f) => sum + f.size, 0)

    const evicted: IndexRecord[] = []
    if (projected > limitBytes) {
      const lastUse = (r: IndexRecord): number => Math.max(uses.get(r.key) ?? 0, r.fetchedAt)
      const pinned = await components.pinned(new Map(records.map((r) => [r.key, r])))
      const candidates = records
        .filter((r) => blocksOf.has(r.key) && !pinned.has(r.key) && !leases.held(r.cid) && lastUse(r) < started - recentMs)
        .sort((a, b) => lastUse(a) - lastUse(b))
      for (const record of candidates) {
        if (projected <= lowWater) break
        await index.delete(record.key)
        await clock.forget(record.key)
        evicted.push(record)
        components.onEvict?.(record)
        for (const name of blocksOf.get(record.key)!) {
          const left = refs.get(name)! - 1
          refs.set(name, left)
          const file = files.get(name)
          if (left === 0 && !named(name) && file !== undefined) {
            doomed.push(file)
            projected -= file.size
          }
        }
      }
    }

    let deletedBlocks = 0
    let freedBytes = 0
    await inUse.sweeping(async () => {
      for (const file of doomed) {
        if (named(file.name)) continue // an import took it up meanwhile
        if (await blockFiles.remove(file)) {
          deletedBlocks++
          freedBytes += file.size
        }
      }
    })
    const report = {
      evicted: evicted.map((r) => ({ key: r.key, size: r.size })),
      deletedBlocks,
      freedBytes,
      usedBytes: blockFiles.bytes,
      limitBytes,
      overLimit: blockFiles.bytes > limitBytes
    }
    if (evicted.length > 0 || deletedBlocks > 0) log.info({ evicted: evicted.length, deletedBlocks, freedBytes, usedBytes: report.usedBytes, limitBytes }, 'store collected')
    stuck = report.overLimit ? { until: Date.now() + STUCK_BACKOFF_MS, bytes: report.usedBytes } : undefined
    if (report.overLimit) log.warn({ usedBytes: report.usedBytes, limitBytes }, 'the store is over its limit with nothing more it may evict (pinned, being read, or just used)')
    return report
  }

  function collect (): Promise<CollectReport> {
    running ??= run().finally(() => {
      running = undefined
      if (again) {
        again = false
        void collect().catch((err: Error) => log.error({ err }, 'store collection failed'))
      }
    })
    return running
  }

  return {
    limitBytes,
    usedBytes: () => blockFiles.bytes,
    async collect () {
      const under = running
      if (under !== undefined) await under.catch(() => {})
      return await collect()
    },
    stored () {
      if (blockFiles.bytes <= limitBytes) return
      if (stuck !== undefined && Date.now() < stuck.until && blockFiles.bytes < stuck.bytes + (limitBytes - lowWater)) return
      if (running !== undefined) { again = true; return }
      collect().catch((err: Error) => log.error({ err }, 'store collection failed'))
    }
  }
}
