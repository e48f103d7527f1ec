import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { LevelDatastore } from 'datastore-level'
import { CID } from 'multiformats/cid'
import { decodeIndexRecord, INDEX_PREFIX } from '../../src/index/local-index.ts'
import { readFile } from '../../src/store/read-file.ts'

/** `keys`: the key of every artifact record. */
export interface StoreReport { artifacts: number, documents: number, keys: string[], bad: string[] }

/**
 * Opens a stopped node's store and re-hashes every artifact against the digests
 * its record holds; a record that does not decode is bad too (the node's own
 * index would skip it, and so hide it).
 */
export async function verifyStore (dataDir: string): Promise<StoreReport> {
  const datastore = new LevelDatastore(join(dataDir, 'datastore'))
  const blockstore = new FsBlockstore(join(dataDir, 'blocks'))
  await datastore.open()
  await blockstore.open()
  const report: StoreReport = { artifacts: 0, documents: 0, keys: [], bad: [] }
  try {
    for await (const { key, value } of datastore.query({ prefix: INDEX_PREFIX })) {
      const record = decodeIndexRecord(value)
      if (record === undefined) {
        report.bad.push(`${key.toString()}: a record that does not decode`)
        continue
      }
      const hashes = record.digests.map((d) => ({ ...d, hash: createHash(d.algorithm) }))
      let size = 0
      try {
        for await (const chunk of readFile(blockstore, CID.parse(record.cid))) {
          size += chunk.byteLength
          for (const h of hashes) h.hash.update(chunk)
        }
      } catch (err) {
        report.bad.push(`${record.key}: unreadable (${(err as Error).message})`)
        continue
      }
      if (size !== record.size) report.bad.push(`${record.key}: ${size} bytes, record says ${record.size}`)
      for (const h of hashes) if (h.hash.digest('hex') !== h.hex) report.bad.push(`${record.key}: ${h.algorithm} mismatch`)
      if (record.kind === 'artifact') {
        report.artifacts++
        report.keys.push(record.key)
        if (record.digests.length === 0) report.bad.push(`${record.key}: artifact without digests`)
      } else {
        report.documents++
      }
    }
  } finally {
    await datastore.close()
    await blockstore.close()
  }
  return report
}
