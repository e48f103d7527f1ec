import { gunzipSync } from 'node:zlib'
import { readDdsRepositoryBytes, type DdsPackage } from '../../src/catalog/dds-repo-db.ts'
import type { PluginApi } from '../index.ts'

/** A repository's `repo.db.gz` as the node keeps it: the upstream bytes and the packages they list. */
export interface RepoDbDocument {
  bytes: Uint8Array
  name: string
  packages: Map<string, DdsPackage>
}

/** The largest database a `repo.db.gz` may unpack to: dds's own are a few megabytes. */
const MAX_DB_BYTES = 512 * 1024 * 1024

export const packageId = (name: string, version: string): string => `${name}@${version}`

/** Unpacks and reads it in memory (SQLite from bytes): no temporary file, nothing written. */
export function parseRepoDb (bytes: Uint8Array, api: PluginApi): RepoDbDocument {
  try {
    const repo = readDdsRepositoryBytes(gunzipSync(bytes, { maxOutputLength: MAX_DB_BYTES }))
    return { bytes, name: repo.name, packages: new Map(repo.packages.map((p) => [packageId(p.name, p.version), p])) }
  } catch (err) {
    throw new api.errors.UpstreamError(`repo.db.gz is not a dds repository database: ${(err as Error).message}`)
  }
}
