import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as v from 'valibot'
import type { FormatAdapter, FormatMount, FormatPlugin, FormatPluginFactory, PluginApi } from '../../formats/index.ts'
import { ConfigError } from '../config/config-error.ts'
import { BadRequestError, NotFoundError, UpstreamError } from '../errors.ts'

/** All a plugin receives from the core. */
export const PLUGIN_API: PluginApi = { errors: { BadRequestError, NotFoundError, UpstreamError }, v }

/** Prefixes the node's own endpoints and the contract's formats hold; an outside plugin may not take them. */
const RESERVED_PREFIXES = ['/-', '/npm', '/pypi', '/apt', '/v2', '/cargo', '/dds']
const SECTION = /^[a-z][a-z0-9]*$/
const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/

export interface PluginSources {
  /** Plugins named in `DPM_PLUGINS`: package names, or paths to package directories. */
  specifiers: string[]
  /** Plugins that ship with the node, loaded through the same API. */
  builtins: Array<{ name: string, factory: FormatPluginFactory }>
  /** Plugins handed over in code (the compliance suite's): held to the same rules as named ones. */
  given?: Array<{ name: string, factory: FormatPluginFactory }>
  /** The config file's plugin sections, by section name. */
  sections: Record<string, Record<string, unknown>>
  /** `DPM_*` variables that are not core settings. */
  env: Record<string, string>
  /** Prefixes already mounted (the built-in npm format's). */
  taken: Array<{ prefix: string, by: string }>
}

/**
 * Loads every plugin, validates its settings section and collects its mounts.
 * Anything wrong stops the node with one line naming the plugin.
 */
export async function loadPlugins (sources: PluginSources): Promise<FormatMount[]> {
  const taken = [...sources.taken]
  const mounts: FormatMount[] = []
  const claimed = new Set<string>()
  const entries = [
    ...sources.builtins.map((b) => ({ name: b.name, builtin: true, load: async () => b.factory })),
    ...(sources.given ?? []).map((g) => ({ name: g.name, builtin: false, load: async () => g.factory })),
    ...sources.specifiers.map((spec) => ({ name: spec, builtin: false, load: async () => await importFactory(spec) }))
  ]
  for (const entry of entries) {
    const fail = (message: string): never => { throw new ConfigError(`plugin "${entry.name}": ${message}`) }
    let plugin: FormatPlugin
    try {
      plugin = (await entry.load())(PLUGIN_API)
    } catch (err) {
      if (err instanceof ConfigError) throw err
      return fail(`cannot load: ${(err as Error).message.split('\n')[0]}`)
    }
    if (typeof plugin?.name !== 'string' || typeof plugin.mounts !== 'function' || typeof plugin.settings !== 'object') fail('its default export must be a function returning { name, section, settings, mounts }')
    if (typeof plugin.section !== 'string' || !SECTION.test(plugin.section)) fail(`section "${plugin.section}" must be a lower-case word`)
    if (claimed.has(plugin.section)) fail(`section "${plugin.section}" is already another plugin's`)
    claimed.add(plugin.section)

    const settings = parseSection(plugin, sources.sections[plugin.section] ?? {}, sources.env)
    let pluginMounts: FormatMount[]
    try {
      pluginMounts = plugin.mounts(settings)
    } catch (err) {
      return fail((err as Error).message)
    }
    if (!Array.isArray(pluginMounts)) fail('mounts() must return an array of { adapter, upstream }')
    for (const mount of pluginMounts) {
      const prefix = mount.adapter?.prefix
      if (typeof prefix !== 'string' || !PREFIX.test(prefix)) fail(`prefix "${prefix}" must be a path like /foo, without a trailing slash`)
      const clash = taken.find((t) => overlaps(t.prefix, prefix)) ??
        (entry.builtin ? undefined : RESERVED_PREFIXES.filter((r) => overlaps(r, prefix)).map((r) => ({ prefix: r, by: 'the node' }))[0])
      if (clash !== undefined) fail(`prefix ${prefix} is already taken (${clash.prefix}, by ${clash.by})`)
      taken.push({ prefix, by: entry.name })
      mounts.push({ ...mount, adapter: withOwnKeys(mount.adapter, plugin.section, entry.name) })
    }
  }
  const unclaimed = Object.keys(sources.sections).find((s) => !claimed.has(s))
  if (unclaimed !== undefined) throw new ConfigError(`DPM_CONFIG: unknown section "${unclaimed}": no loaded plugin reads it`)
  return mounts
}

/** The section from the file, with `DPM_<SECTION>_<KEY>` variables laid over it, validated by the plugin's schema. */
function parseSection (plugin: FormatPlugin, fromFile: Record<string, unknown>, env: Record<string, string>): unknown {
  const prefix = `DPM_${plugin.section.toUpperCase()}_`
  const input: Record<string, unknown> = { ...fromFile }
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix)) input[name.slice(prefix.length).toLowerCase()] = value
  }
  const result = v.safeParse(plugin.settings, input)
  if (result.success) return result.output
  const issue = result.issues[0]
  const key = v.getDotPath(issue)?.split('.')[0]
  const shown = issue.input === undefined ? '' : ` (got ${JSON.stringify(issue.input)})`
  throw new ConfigError(`${key === undefined ? `plugin "${plugin.name}" settings` : `${prefix}${key.toUpperCase()}`}: ${issue.message}${shown}`)
}

/**
 * Index keys are one namespace for the whole node: a plugin's must start with its
 * section (`cargo:`), so no format can overwrite another's records. A key outside
 * it is the plugin's bug: the request fails with a 500 that names the plugin.
 */
function withOwnKeys (adapter: FormatAdapter, section: string, plugin: string): FormatAdapter {
  const own = (key: string): void => {
    if (!key.startsWith(`${section}:`)) throw new Error(`plugin "${plugin}" made the index key "${key}", outside its "${section}:" namespace`)
  }
  const guarded: FormatAdapter = Object.create(adapter)
  guarded.parse = (request, upstream) => {
    const target = adapter.parse(request, upstream)
    if (target.kind === 'metadata') own(target.key)
    if (target.kind === 'artifact') for (const t of [target, target.publishedIn, ...(target.alsoPublishedIn ?? [])]) if (t !== undefined) own(t.key)
    return target
  }
  return guarded
}

/** One prefix is the other, or mounts below it. */
function overlaps (a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)
}

/** A package name is imported from the node's own dependencies; a path, from that package directory's entry point. */
async function importFactory (specifier: string): Promise<FormatPluginFactory> {
  let url = specifier
  if (/^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    const dir = specifier.startsWith('file:') ? new URL(specifier).pathname : resolve(specifier)
    const pkg = JSON.parse(await readFile(resolve(dir, 'package.json'), 'utf8')) as { main?: string, exports?: unknown }
    const exported = typeof pkg.exports === 'string' ? pkg.exports : (pkg.exports as Record<string, unknown> | undefined)?.['.']
    const entry = typeof exported === 'string' ? exported : (exported as { default?: string, import?: string } | undefined)?.import ?? (exported as { default?: string } | undefined)?.default ?? pkg.main ?? 'index.js'
    url = pathToFileURL(resolve(dir, entry)).href
  }
  const module = await import(url) as { default?: unknown }
  if (typeof module.default !== 'function') throw new Error('it has no default export (a function taking the plugin API)')
  return module.default as FormatPluginFactory
}
