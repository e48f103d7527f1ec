import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand, type CommandResult } from './run-command.ts'

export type PipResult = CommandResult

/** A fresh virtual environment with the real `pip`, pointed at nothing until told. */
export interface Venv {
  dir: string
  /** `pip ARGS…` in the venv: no cache, no version check, no config files of this host. */
  pip(...args: string[]): Promise<PipResult>
  python(...args: string[]): Promise<PipResult>
  remove(): Promise<void>
}

async function run (command: string, args: string[]): Promise<PipResult> {
  return await runCommand(command, args, { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1' } })
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
