import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { manifestOfArchive } from './archive-manifest.ts'
import { RepomanError } from './errors.ts'
import type { ListingSource } from './listing-url.ts'
import { MANIFEST_NAMES, MAX_MANIFEST_BYTES, parseManifest, type PackageManifest } from './manifest.ts'

const run = promisify(execFile)
const TIMEOUT_MS = 120_000

/** Fetches a listing's package once, as dds's `repoman add` does, to read its manifest. */
export async function fetchManifest (source: ListingSource, label: string, signal = AbortSignal.timeout(TIMEOUT_MS)): Promise<PackageManifest> {
  return source.kind === 'git' ? await fromGit(source, label, signal) : await fromArchive(source.url, label, signal)
}

async function fromArchive (url: string, label: string, signal: AbortSignal): Promise<PackageManifest> {
  let response: Response
  try {
    response = await fetch(url, { signal, redirect: 'follow' })
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message
    throw new RepomanError(`${label}: cannot fetch ${url}: ${cause}`)
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel()
    throw new RepomanError(`${label}: GET ${url} answered ${response.status} ${response.statusText}`)
  }
  // a forge's archive of a tag holds the package one directory down
  return await manifestOfArchive(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), label, { nested: true })
}

async function fromGit (source: Extract<ListingSource, { kind: 'git' }>, label: string, signal: AbortSignal): Promise<PackageManifest> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-repoman-git-'))
  try {
    try {
      // not shallow: a shallow clone needs a smart server, and a dumb HTTP one is as valid a Git host
      await run('git', ['clone', '--quiet', '--single-branch', '--no-tags', '--branch', source.ref, '--', source.url, join(dir, 'src')], {
        signal,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' }
      })
    } catch (err) {
      const e = err as { code?: string, stderr?: string, message: string }
      if (e.code === 'ENOENT') throw new RepomanError(`${label}: git is not installed`)
      const why = (e.stderr ?? e.message).trim().split('\n').filter(Boolean).pop() ?? e.message
      throw new RepomanError(`${label}: git clone ${source.url} at ${source.ref} failed: ${why}`)
    }
    for (const name of MANIFEST_NAMES) {
      let text: Buffer
      try {
        text = await readFile(join(dir, 'src', name))
      } catch {
        continue
      }
      if (text.byteLength > MAX_MANIFEST_BYTES) throw new RepomanError(`${label}: ${name} is larger than ${MAX_MANIFEST_BYTES} bytes: not a package manifest`)
      return parseManifest(text.toString('utf8'), `${label}: ${name}`)
    }
    throw new RepomanError(`${label}: the repository holds no package manifest (${MANIFEST_NAMES.join(', ')}) at ${source.ref}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
