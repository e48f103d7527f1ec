import type { PluginApi } from '../index.ts'

/** `config.json` of a sparse registry: where crates download from (`dl`), where the web API is (`api`). */
export interface RegistryConfig {
  kind: 'config'
  dl: string
  fields: Record<string, unknown>
}

/** One published version, as a line of an index file says it. */
export interface IndexEntry {
  name: string
  vers: string
  cksum: string
}

/** An index file: its exact bytes (served unchanged) and the versions it lists. */
export interface IndexFile {
  kind: 'index'
  bytes: Uint8Array
  entries: IndexEntry[]
}

export type CargoDocument = RegistryConfig | IndexFile

export function parseConfig (bytes: Uint8Array, api: PluginApi): RegistryConfig {
  let fields: unknown
  try {
    fields = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new api.errors.UpstreamError('the registry\'s config.json is not JSON')
  }
  const dl = (fields as { dl?: unknown } | null)?.dl
  if (typeof dl !== 'string' || !/^https?:\/\//.test(dl)) throw new api.errors.UpstreamError('the registry\'s config.json has no http(s) "dl"')
  return { kind: 'config', dl, fields: fields as Record<string, unknown> }
}

/** Lines that are not JSON, or lack a name, version or checksum, are skipped: cargo skips what it cannot read too. */
export function parseIndexFile (bytes: Uint8Array): IndexFile {
  const entries: IndexEntry[] = []
  for (const line of new TextDecoder().decode(bytes).split('\n')) {
    if (line.trim() === '') continue
    try {
      const entry = JSON.parse(line) as Partial<IndexEntry>
      if (typeof entry.name === 'string' && typeof entry.vers === 'string' && typeof entry.cksum === 'string' && /^[0-9a-f]{64}$/.test(entry.cksum)) {
        entries.push({ name: entry.name, vers: entry.vers, cksum: entry.cksum })
      }
    } catch {}
  }
  return { kind: 'index', bytes, entries }
}

/**
 * A crate's download URL from `dl`: its markers filled in, or, without markers,
 * `/{crate}/{version}/download` appended, as cargo does.
 */
export function downloadUrl (dl: string, crate: string, version: string, cksum: string): string {
  const lower = crate.toLowerCase()
  const prefix = lower.length <= 2 ? `${lower.length}` : lower.length === 3 ? `3/${lower[0]}` : `${lower.slice(0, 2)}/${lower.slice(2, 4)}`
  if (!/\{(crate|version|prefix|lowerprefix|sha256-checksum)\}/.test(dl)) return `${dl.replace(/\/+$/, '')}/${crate}/${version}/download`
  return dl
    .replaceAll('{crate}', crate)
    .replaceAll('{version}', version)
    .replaceAll('{prefix}', prefix)
    .replaceAll('{lowerprefix}', prefix)
    .replaceAll('{sha256-checksum}', cksum)
}
