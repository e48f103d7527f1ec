import bytes from 'bytes'
import * as v from 'valibot'
import { isSeedAddress } from '../swarm/dial-seeds.ts'

/** Accepts a value from the environment (always a string) or from YAML (maybe a number or boolean). */
const text = v.pipe(v.union([v.string(), v.number(), v.boolean()]), v.transform(String), v.trim())

const port = v.pipe(
  text,
  v.regex(/^\d{1,5}$/, 'expected a port number from 0 to 65535'),
  v.transform(Number),
  v.maxValue(65535, 'expected a port number from 0 to 65535')
)

const httpUrl = v.pipe(
  text,
  v.url('expected an absolute http(s) URL'),
  v.regex(/^https?:\/\//i, 'expected an http:// or https:// URL'),
  /** A trailing slash makes joining paths onto a base URL unambiguous. */
  v.transform((url) => url.endsWith('/') ? url : `${url}/`)
)

/** `a, b,,c` → `['a', 'b', 'c']`: every list setting is comma separated. */
const commaList = v.pipe(text, v.transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean)))

const multiaddrList = v.pipe(
  commaList,
  v.check((addrs) => addrs.every((a) => a.startsWith('/')), 'expected comma-separated multiaddrs such as /ip4/0.0.0.0/tcp/4001')
)

const peerId = /^(12D3Koo[1-9A-HJ-NP-Za-km-z]{45}|Qm[1-9A-HJ-NP-Za-km-z]{44})$/

const peerIdList = v.pipe(
  commaList,
  v.check((ids) => ids.every((id) => peerId.test(id)), 'expected comma-separated peer ids such as 12D3KooW...')
)

const dialableList = v.pipe(
  multiaddrList,
  v.check((addrs) => addrs.every((a) => /\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(a) || isSeedAddress(a)), 'every bootstrap multiaddr must end in /p2p/<peer id>, or be a seed such as /dns4/<name>/tcp/<port>')
)

const flag = v.pipe(
  text,
  v.toLowerCase(),
  v.picklist(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], 'expected true or false'),
  v.transform((value) => ['true', '1', 'yes', 'on'].includes(value))
)

/** The kubo swarm.key format: a header, an encoding line, and 32 bytes in that encoding. */
/** A size such as `50GB`, `512MB` or a plain number of bytes (units are binary: 1 GB = 1024³ bytes, as `bytes` reads them). */
const byteSize = v.pipe(
  text,
  v.transform((value) => bytes.parse(value)),
  v.number('expected a size such as 50GB, 512MB or a number of bytes'),
  v.integer('expected a whole number of bytes'),
  v.minValue(1, 'must be more than 0')
)

const swarmKeyText = v.pipe(
  text,
  v.regex(/^\/key\/swarm\/psk\/1\.0\.0\/\s*\n\/base16\/\s*\n[0-9a-fA-F]{64}\s*$/, 'expected a kubo swarm.key: "/key/swarm/psk/1.0.0/", "/base16/", then 64 hex digits, one per line (make one with `dpm swarm-key generate`)')
)

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * Every setting of a node. Keys are snake_case as in a config file; the environment
 * variable is the same name upper-cased with a `DPM_` prefix (`http_port` → `DPM_HTTP_PORT`).
 * Defaults that depend on the host (data dir, npm upstream) are filled in by `load-settings.ts`.
 */
export const SettingsSchema = v.object({
  data_dir: v.pipe(text, v.minLength(1, 'must not be empty')),
  http_host: v.optional(v.pipe(text, v.minLength(1, 'must not be empty')), '127.0.0.1'),
  http_port: v.optional(port, 8484),
  public_url: v.optional(httpUrl),
  swarm_key_file: v.optional(v.pipe(text, v.minLength(1, 'must not be empty'))),
  swarm_key: v.optional(swarmKeyText),
  p2p_listen: v.optional(multiaddrList, '/ip4/0.0.0.0/tcp/4001'),
  bootstrap: v.optional(dialableList, ''),
  mdns: v.optional(flag, true),
  /** Cache hits handed to the kernel (sendfile) when the native addon was built at install; off: copied through the node. */
  sendfile: v.optional(flag, true),
  /** Empty: every member of the swarm is trusted. */
  trusted_peers: v.optional(peerIdList, ''),
  /** Bytes the store may hold before least recently used, unpinned content is evicted. */
  max_store: v.optional(byteSize, '50GB'),
  log_level: v.optional(v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`), 'info'),
  npm_upstream: v.optional(httpUrl),
  admin_token: v.optional(v.pipe(text, v.minLength(16, 'must be at least 16 characters'))),
  /** Format plugins to load: npm package names, or paths to package directories. */
  plugins: v.optional(commaList, ''),
  /** A directory to mount the read-only FUSE view of the cache at, at start (`dpm mount`). */
  mount: v.optional(v.pipe(text, v.minLength(1, 'must not be empty'), v.startsWith('/', 'expected an absolute directory path')))
})

export type SettingsInput = v.InferInput<typeof SettingsSchema>
export type Settings = v.InferOutput<typeof SettingsSchema>
export type SettingName = keyof Settings

export const SETTING_NAMES = Object.keys(SettingsSchema.entries) as SettingName[]

export function envName (name: SettingName): string {
  return `DPM_${name.toUpperCase()}`
}
