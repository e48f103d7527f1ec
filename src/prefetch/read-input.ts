import { readFile } from 'node:fs/promises'
import type { AptWanted } from './apt-packages.ts'
import { parseAptList } from './apt-packages.ts'
import type { InputKind } from './detect-kind.ts'
import { InputError } from './input-error.ts'
import { parseNpmLock, type NpmTarball } from './npm-lock.ts'
import { parseImageList, type ImageReference } from './oci-images.ts'
import { parseRequirements, type PinnedRequirement } from './pip-requirements.ts'
import type { Skip } from './session.ts'

/** One input file, read and parsed: what it asks for, and what it names that prefetch leaves out. */
export type PrefetchInput = { file: string, skipped: Skip[] } & (
  | { kind: 'npm', tarballs: NpmTarball[] }
  | { kind: 'pypi', pins: PinnedRequirement[] }
  | { kind: 'oci', images: ImageReference[] }
  | { kind: 'apt', packages: AptWanted[] }
)

/** Lockfiles and lists are text of modest size; a larger file is not one of them. */
const MAX_INPUT = 256 * 1024 * 1024

/** Reads and parses a file, all before anything is fetched; an InputError names the file and the problem. */
export async function readInput (file: string, kind: InputKind): Promise<PrefetchInput> {
  let text: string
  try {
    const bytes = await readFile(file === '-' ? '/dev/stdin' : file)
    if (bytes.byteLength > MAX_INPUT) throw new Error(`larger than ${MAX_INPUT} bytes`)
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new InputError(file, e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.code === 'EACCES' ? 'not readable (permission denied)' : e instanceof TypeError ? 'not UTF-8 text' : `cannot read it (${e.message})`)
  }
  text = text.replace(/^\uFEFF/, '')
  switch (kind) {
    case 'npm': { const { tarballs, skipped } = parseNpmLock(text, file); return { kind, file, tarballs, skipped } }
    case 'pypi': { const { pins, skipped } = parseRequirements(text, file); return { kind, file, pins, skipped } }
    case 'oci': return { kind, file, images: parseImageList(text, file), skipped: [] }
    case 'apt': return { kind, file, packages: parseAptList(text, file), skipped: [] }
  }
}
