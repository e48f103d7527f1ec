import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const DPM_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface DpmRun { code: number, stdout: string, stderr: string }

/** `dpm ARGS…` as its own process, with no settings of the user's in the way (`env` adds some). */
export async function runDpm (args: string[], env: Record<string, string> = {}): Promise<DpmRun> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [DPM_MAIN, ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? -1, stdout, stderr })
    })
  })
}
