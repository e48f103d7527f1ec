import { basename } from 'node:path'

export const KINDS = ['npm', 'pypi', 'oci', 'apt'] as const
export type InputKind = typeof KINDS[number]

/** What a file is by its name: npm's lockfiles, `requirements*.txt`, `*.images`/`images*.txt`, `*.apt`/`apt*.txt`. */
export function detectKind (file: string): InputKind | undefined {
  const name = basename(file).toLowerCase()
  if (['package-lock.json', 'npm-shrinkwrap.json', '.package-lock.json'].includes(name)) return 'npm'
  if (/^requirements.*\.txt$|[-_.]requirements\.txt$/.test(name)) return 'pypi'
  if (/\.images$|^images.*\.txt$/.test(name)) return 'oci'
  if (/\.apt$|^apt.*\.txt$/.test(name)) return 'apt'
  return undefined
}
