import { homedir } from 'node:os'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/config-error.ts'
import { loadSettings } from '../config/load-settings.ts'
import { createLogger } from '../node/logger.ts'
import { startNode } from '../node/create-node.ts'

/** `dpm start [--config FILE]`: runs until SIGTERM or SIGINT, then shuts down cleanly. */
export async function runStart (args: string[]): Promise<number> {
  let configFile: string | undefined
  try {
    configFile = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } }).values.config
  } catch (err) {
    process.stderr.write(`dpm start: ${(err as Error).message}\n`)
    return 2
  }

  let settings
  try {
    settings = await loadSettings({ env: process.env, configFile, homeDir: homedir() })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`dpm: ${err.message}\n`)
    return 2
  }

  const log = createLogger(settings.log_level)
  let node
  try {
    node = await startNode(settings, { log })
  } catch (err) {
    // a plugin that cannot load or clashes: as plain a message as a bad setting
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`dpm: ${err.message}\n`)
    return 2
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'signal received')
      // a second signal means "now": skip the grace period
      process.once(signal, () => process.exit(130))
      node.stop().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed')
        resolve()
      })
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  })
  return 0
}
