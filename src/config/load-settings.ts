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
  /** The config file's mappings that are not core settings: format plugins' sections, checked when the plugins load. */
  sections?: Record<string, Record<string, unknown>>
  /** `DPM_*` variables that are not core settings: format plugins' settings (`DPM_CARGO_UPSTREAMS`), checked when the plugins load. */
  plugin_env?: Record<string, string>
}

/**
 * Reads the optional YAML file, lays the environment over it, validates once and
 * fails with a single line naming the setting. Environment wins over the file.
 */
export async function loadSettings (init: LoadSettingsInit): Promise<NodeSettings> {
  const file = init.configFile ?? init.env.DPM_CONFIG
  const { settings: input, sections } = file === undefined ? { settings: {}, sections: {} } : await readConfigFile(file)
  for (const name of SETTING_NAMES) {
    const value = init.env[envName(name)]
    if (value !== undefined && value !== '') input[name] = value
  }
  input.data_dir ??= defaultDataDir(init.env, init.homeDir)
  const coreEnv = new Set<string>(SETTING_NAMES.map(envName))
  const pluginEnv = Object.fromEntries(Object.entries(init.env).filter((e): e is [string, string] => e[0].startsWith('DPM_') && e[0] !== 'DPM_CONFIG' && !coreEnv.has(e[0]) && e[1] !== undefined && e[1] !== ''))

  const result = v.safeParse(SettingsSchema, input)
  if (!result.success) {
    const issue = result.issues[0]
    const name = v.getDotPath(issue)?.split('.')[0] as SettingName | undefined
    const shown = issue.input === undefined ? '' : ` (got ${JSON.stringify(issue.input)})`
    throw new ConfigError(`${name === undefined ? 'settings' : envName(name)}: ${issue.message}${shown}`)
  }
  const { swarm_key_file: keyFile, swarm_key: keyText, ...settings } = result.output
  settings.npm_upstream ??= await defaultNpmRegistry()
  return { ...settings, sections, plugin_env: pluginEnv, swarm_key: await resolveSwarmKey(keyFile, keyText) }
}

async function readConfigFile (file: string): Promise<{ settings: Record<string, unknown>, sections: Record<string, Record<string, unknown>> }> {
  let doc: unknown
  try {
    doc = parseYaml(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ConfigError(`DPM_CONFIG: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`)
  }
  if (doc == null) return { settings: {}, sections: {} }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`DPM_CONFIG: ${file} must be a YAML mapping of settings`)
  const settings: Record<string, unknown> = {}
  const sections: Record<string, Record<string, unknown>> = {}
  for (const [key, value] of Object.entries(doc)) {
    if ((SETTING_NAMES as string[]).includes(key)) settings[key] = value
    // a mapping is a format plugin's section (`cargo:`), checked once the plugins are loaded
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) sections[key] = value as Record<string, unknown>
    else throw new ConfigError(`DPM_CONFIG: ${file} has an unknown setting "${key}" (known: ${SETTING_NAMES.join(', ')})`)
  }
  return { settings, sections }
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
