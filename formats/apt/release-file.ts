/** One index a `Release` file lists: its path below `dists/<suite>/`, size and SHA256. */
export interface ReleaseEntry {
  path: string
  size: number
  sha256: string
}

export interface ReleaseFile {
  kind: 'release'
  /** The file as the upstream sent it: apt checks its signature, so it goes out unchanged. */
  bytes: Uint8Array
  entries: Map<string, ReleaseEntry>
}

/** `Release.gpg`: a detached signature, passed through. */
export interface SignatureFile {
  kind: 'signature'
  bytes: Uint8Array
}

const ENTRY = /^ ([0-9a-f]{64}) +(\d+) +(\S+)$/

/**
 * The `SHA256:` field of an `InRelease` or `Release` file. In a clear-signed
 * `InRelease` the signed text sits between the armour lines, lines starting with
 * a dash escaped as `- `; the signature itself is apt's to check.
 */
export function parseRelease (bytes: Uint8Array): ReleaseFile {
  let lines = new TextDecoder().decode(bytes).split(/\r?\n/)
  if (lines[0] === '-----BEGIN PGP SIGNED MESSAGE-----') {
    const body = lines.indexOf('', 1)
    const end = lines.indexOf('-----BEGIN PGP SIGNATURE-----')
    lines = lines.slice(body + 1, end === -1 ? undefined : end).map((line) => line.startsWith('- ') ? line.slice(2) : line)
  }
  const entries = new Map<string, ReleaseEntry>()
  let inSha256 = false
  for (const line of lines) {
    if (!line.startsWith(' ')) {
      inSha256 = /^SHA256:\s*$/i.test(line)
      continue
    }
    const entry = inSha256 ? ENTRY.exec(line) : null
    if (entry !== null) entries.set(entry[3]!, { sha256: entry[1]!, size: Number(entry[2]), path: entry[3]! })
  }
  return { kind: 'release', bytes, entries }
}
