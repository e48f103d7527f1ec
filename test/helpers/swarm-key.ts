import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

/** A fresh swarm key, made the way a user makes one: `dpm swarm-key generate`. */
export function generateSwarmKey (): string {
  return execFileSync(process.execPath, [MAIN, 'swarm-key', 'generate'], { encoding: 'utf8' })
}
