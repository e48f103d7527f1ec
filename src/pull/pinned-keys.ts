import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { IndexRecord } from '../index/index-record.ts'
import type { Pins } from '../store/pins.ts'
import type { FormatMount } from './format-mount.ts'

/** What pins keep, as the index holds it now. */
export interface PinnedClosure {
  /** Stored keys the pins keep: each pinned key, the keys its document names (an image's manifests, config and layers), and theirs. */
  kept: Set<string>
  /** Keys a pinned document names that are not stored. */
  missing: Set<string>
}

export interface PinnedKeys {
  /** What every pin keeps (or only those of `roots`), of the records `recordOf` finds. */
  closure(recordOf: (key: string) => IndexRecord | undefined | Promise<IndexRecord | undefined>, roots?: string[]): Promise<PinnedClosure>
}

export interface PinnedKeysComponents {
  pins: Pick<Pins, 'list'>
  mounts: FormatMount[]
  /** A stored document's bytes, no more than `maxBytes`. */
  read(cid: CID, maxBytes: number): Promise<Uint8Array>
  log: Logger
}

/** An index nests manifests, which name blobs: deeper than this is not an image. */
const MAX_DEPTH = 4

/**
 * A pin names one key; a pinned document that names others (an image tag: its
 * index, each platform's manifest, their configs and layers) keeps those too,
 * read afresh at each collection, so a tag that moves keeps the image it names
 * now. Documents by content do not change: what each names is remembered by CID.
 */
export function createPinnedKeys (components: PinnedKeysComponents): PinnedKeys {
  const { mounts, log } = components
  let named = new Map<string, string[]>()

  async function namedBy (record: IndexRecord): Promise<string[]> {
    if (record.kind !== 'metadata') return []
    const adapter = mounts.find((m) => record.key.startsWith(`${m.adapter.name}:`))?.adapter
    if (adapter?.references === undefined) return []
    const known = named.get(record.cid)
    if (known !== undefined) return known
    try {
      const keys = adapter.references(record.key, await components.read(CID.parse(record.cid), adapter.maxDocumentBytes))
      named.set(record.cid, keys)
      return keys
    } catch (err) {
      // not remembered: its blocks may be back by the next collection
      log.warn({ key: record.key, cid: record.cid, err: (err as Error).message }, 'a pinned document could not be read: only its own key is kept')
      return []
    }
  }

  return {
    async closure (recordOf, roots) {
      const kept = new Set<string>()
      const missing = new Set<string>()
      const seen = new Set<string>()
      let level = roots ?? components.pins.list()
      for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
        const next: string[] = []
        for (const key of level) {
          if (kept.has(key) || missing.has(key)) continue
          const record = await recordOf(key)
          if (record === undefined) {
            missing.add(key)
            continue
          }
          kept.add(key)
          seen.add(record.cid)
          next.push(...await namedBy(record))
        }
        level = next
      }
      // after a walk from every pin, what none of them reaches is forgotten
      if (roots === undefined) named = new Map([...named].filter(([cid]) => seen.has(cid)))
      return { kept, missing }
    }
  }
}
