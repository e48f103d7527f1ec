import { mkdtempSync, rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let root: string | undefined

/**
 * A fresh directory for files a test makes and has no moment of its own to
 * remove (an sdist handed to a repository, a client's home): it lies under one
 * directory per test process, which goes when the process exits.
 */
export async function tempDir (prefix: string): Promise<string> {
  if (root === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'dpm-test-'))
    process.on('exit', () => { rmSync(made, { recursive: true, force: true }) })
    root = made
  }
  return await mkdtemp(join(root, prefix))
}
