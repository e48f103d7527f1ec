import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/** How a real client's run went: `ok` when it exited 0. */
export interface CommandResult { ok: boolean, stdout: string, stderr: string }

/**
 * Runs a client (pip, apt-get, cargo, skopeo) to its end without blocking this
 * process: the fake upstreams a test starts live in it and must go on answering.
 */
export async function runCommand (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv, timeout?: number } = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { ...options, maxBuffer: 64 << 20 })
    return { ok: true, stdout, stderr }
  } catch (err) {
    const failed = err as { stdout?: string, stderr?: string }
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(err) }
  }
}
