import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface PipResult { ok: boolean, stdout: string, stderr: string }

/** A fresh virtual environment with the real `pip`, pointed at nothing until told. */
export interface Venv {
  dir: string
  /** `pip ARGS…` in the venv: no cache, no version check, no config files of this host. */
  pip(...args: string[]): Promise<PipResult>
  python(...args: string[]): Promise<PipResult>
  remove(): Promise<void>
}

async function run (command: string, args: string[], env: Record<string, string> = {}): Promise<PipResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1', ...env }, maxBuffer: 16 << 20 })
    return { ok: true, stdout, stderr }
  } catch (err) {
    const failed = err as { stdout?: string, stderr?: string }
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(err) }
  }
}

export async function createVenv (): Promise<Venv> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-venv-'))
  // Debian's Python, as CI installs it (python3-venv), whatever else is on PATH
  const made = await run('/usr/bin/python3', ['-m', 'venv', dir])
  if (!made.ok) throw new Error(`python3 -m venv failed: ${made.stderr}`)
  const bin = (name: string): string => join(dir, 'bin', name)
  return {
    dir,
    pip: async (...args) => await run(bin('python'), ['-m', 'pip', '--no-cache-dir', '--disable-pip-version-check', ...args]),
    python: async (...args) => await run(bin('python'), args),
    remove: async () => { await rm(dir, { recursive: true, force: true }) }
  }
}
