import { once } from 'node:events'
import { posix } from 'node:path'
import { Parser, type ReadEntry } from 'tar'
import { MANIFEST_NAMES, MAX_MANIFEST_BYTES, parseManifest, type PackageManifest } from './manifest.ts'
import { RepomanError } from './errors.ts'

/**
 * Finds the package manifest in a `.tar.gz` stream and reads it. `nested`: also
 * one directory down, as in the archives forges make of a tag (`repo-1.0/package.json5`);
 * an sdist holds it at its root, where dds's `repoman import` looks.
 */
export async function manifestOfArchive (source: AsyncIterable<Uint8Array>, where: string, { nested = false } = {}): Promise<PackageManifest> {
  const found = new Map<string, string>()
  const reads: Array<Promise<void>> = []
  let tooBig: string | undefined
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const name = manifestName(entry.path, nested)
      if (entry.type !== 'File' || name === undefined || found.has(name)) { entry.resume(); return }
      if (entry.size > MAX_MANIFEST_BYTES) { tooBig = entry.path; entry.resume(); return }
      const chunks: Buffer[] = []
      entry.on('data', (c: Buffer) => chunks.push(c))
      reads.push(new Promise((resolve) => entry.on('end', () => { found.set(name, Buffer.concat(chunks).toString('utf8')); resolve() })))
    }
  })
  let failure: Error | undefined
  // the parser ends inside `end()` when the last bytes are in: listen before
  const ended = new Promise<void>((resolve) => {
    parser.on('end', () => { resolve() })
    parser.on('error', (err: Error) => { failure ??= err; resolve() })
  })
  parser.on('warn', (code: string, message: string) => { if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') failure ??= new Error(message) })
  try {
    for await (const chunk of source) {
      if (failure !== undefined) break
      if (!parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) await Promise.race([once(parser, 'drain'), ended])
    }
    parser.end()
    await ended
    // an aborted archive leaves its last entry unfinished: do not wait for it
    if (failure === undefined) await Promise.all(reads)
  } catch (err) {
    throw new RepomanError(`${where}: cannot read the archive: ${(err as Error).message}`)
  }
  if (failure !== undefined) throw new RepomanError(`${where}: not a whole .tar.gz archive: ${failure.message}`)
  // the first dds would take: the root's over a nested one, then package.json5 before .jsonc before .json
  for (const prefix of ['', ...[...found.keys()].filter((k) => k.includes('/')).map((k) => k.slice(0, k.indexOf('/') + 1))]) {
    for (const file of MANIFEST_NAMES) {
      const text = found.get(prefix + file)
      if (text !== undefined) return parseManifest(text, `${where}: ${prefix}${file}`)
    }
  }
  if (tooBig !== undefined) throw new RepomanError(`${where}: ${tooBig} is larger than ${MAX_MANIFEST_BYTES} bytes: not a package manifest`)
  throw new RepomanError(`${where}: the archive holds no package manifest (${MANIFEST_NAMES.join(', ')})${nested ? ' at its root or one directory down' : ' at its root'}`)
}

/** The entry's path when it is a manifest where one is looked for, normalized; else undefined. */
function manifestName (path: string, nested: boolean): string | undefined {
  const normal = posix.normalize(path).replace(/^(\.\/)+/, '')
  if (normal.startsWith('../') || normal.startsWith('/')) return undefined
  const parts = normal.split('/')
  const base = parts[parts.length - 1]!
  if (!MANIFEST_NAMES.includes(base)) return undefined
  return parts.length === 1 || (nested && parts.length === 2) ? normal : undefined
}
