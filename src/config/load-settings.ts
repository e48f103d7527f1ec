import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as v from 'valibot'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from './config-error.ts'
import { defaultNpmRegistry } from './default-npm-registry.ts'
import { SETTING_NAMES, SettingsSchema, envName, type Settings, type SettingName } from './settings.ts'

export interface LoadSettingsInit {
  /** The process environment (only the CLI passes `process.env`). */
  env: Record<string, string | undefined>
  /** `--config FILE`; `DPM_CONFIG` is used when absent. */
  configFile?: string
  homeDir: string
}

/** Settings with the swarm key resolved to the bytes `@libp2p/pnet` expects. */
export interface NodeSettings extends Omit<Settings, 'swarm_key' | 'swarm_key_file'> {
  swarm_key?: Uint8Array
}

/**
 * Reads the optional YAML file, lays the environment over it, validates once and
 * fails with a single line naming the setting. Environment wins over the file.
 */
export async function loadSettings (init: LoadSettingsInit): Promise<NodeSettings> {
  const file = init.configFile ?? init.env.DPM_CONFIG
  const input: Record<string, unknown> = file === undefined ? {} : await readConfigFile(file)
  for (const name of SETTING_NAMES) {
    const value = init.env[envName(name)]
    if (value !== undefined && value !== '') input[name] = value
  }
  input.data_dir ??= defaultDataDir(init.env, init.homeDir)

  const result = v.safeParse(SettingsSchema, input)
  if (!result.success) {
    const issue = result.issues[0]
    const name = v.getDotPath(issue)?.split('.')[0] as SettingName | undefined
    const shown = issue.input === undefined ? '' : ` (got ${JSON.stringify(issue.input)})`
    throw new ConfigError(`${name === undefined ? 'settings' : envName(name)}: ${issue.message}${shown}`)
  }
  const { swarm_key_file: keyFile, swarm_key: keyText, ...settings } = result.output
  settings.npm_upstream ??= await defaultNpmRegistry()
  return { ...settings, swarm_key: await resolveSwarmKey(keyFile, keyText) }
}

async function readConfigFile (file: string): Promise<Record<string, unknown>> {
  let doc: unknown
  try {
    doc = parseYaml(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ConfigError(`DPM_CONFIG: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`)
  }
  if (doc == null) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`DPM_CONFIG: ${file} must be a YAML mapping of settings`)
  const unknown = Object.keys(doc).find((key) => !(SETTING_NAMES as string[]).includes(key))
  if (unknown !== undefined) throw new ConfigError(`DPM_CONFIG: ${file} has an unknown setting "${unknown}" (known: ${SETTING_NAMES.join(', ')})`)
  return { ...doc }
}

function defaultDataDir (env: LoadSettingsInit['env'], homeDir: string): string {
  return env.XDG_DATA_HOME ? join(env.XDG_DATA_HOME, 'dpm') : join(homeDir, '.local', 'share', 'dpm')
}

async function resolveSwarmKey (file: string | undefined, text: string | undefined): Promise<Uint8Array | undefined> {
  if (text !== undefined) return new TextEncoder().encode(`${text.trim()}\n`)
  if (file === undefined) return undefined
  let content: string
  try {
    content = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`DPM_SWARM_KEY_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const checked = v.safeParse(SettingsSchema.entries.swarm_key, content)
  if (!checked.success) throw new ConfigError(`DPM_SWARM_KEY_FILE: ${file}: ${checked.issues[0].message}`)
  return new TextEncoder().encode(`${content.trim()}\n`)
}
