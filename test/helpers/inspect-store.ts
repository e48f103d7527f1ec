import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { IndexRecord } from '../../src/index/index-record.ts'
import type { LocalIndex } from '../../src/index/local-index.ts'

/** Block files in a node's blockstore-fs directory. */
export async function countBlocks (dataDir: string): Promise<number> {
  const entries = await readdir(join(dataDir, 'blocks'), { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.data')).length
}

/** Every record in a running node's index. */
export async function listIndex (dpm: { node: { index: LocalIndex } }): Promise<IndexRecord[]> {
  const records: IndexRecord[] = []
  for await (const record of dpm.node.index.all()) records.push(record)
  return records
}
