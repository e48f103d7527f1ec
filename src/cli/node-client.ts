import { homedir } from 'node:os'
import { ConfigError } from '../config/config-error.ts'
import { loadSettings } from '../config/load-settings.ts'

/** A failure a command reports in one line (no stack): the node is not there, or said no. */
export class CliError extends Error {}

export interface NodeClient {
  readonly url: string
  /** JSON from the node's admin API; a non-2xx answer is a CliError carrying the node's own `error`. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>
  /** A gateway path, as a client would fetch it. */
  fetch(path: string, init?: RequestInit): Promise<Response>
}

/**
 * How commands reach a running node: `--url`, else the gateway address in the
 * settings (`DPM_HTTP_HOST`/`DPM_HTTP_PORT`, with a wildcard host reached on
 * loopback), sending `DPM_ADMIN_TOKEN` when one is set.
 */
export async function connectToNode (options: { url?: string, configFile?: string, env?: NodeJS.ProcessEnv } = {}): Promise<NodeClient> {
  const env = options.env ?? process.env
  let url = options.url
  let token = env.DPM_ADMIN_TOKEN
  if (url === undefined) {
    let settings
    try {
      settings = await loadSettings({ env, configFile: options.configFile, homeDir: homedir() })
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message)
      throw err
    }
    token = settings.admin_token
    const host = ['0.0.0.0', '::', ''].includes(settings.http_host) ? '127.0.0.1' : settings.http_host
    url = `http://${host.includes(':') ? `[${host}]` : host}:${settings.http_port}`
  }
  const base = url.replace(/\/+$/, '')
  try {
    void new URL(base)
  } catch {
    throw new CliError(`not a URL: ${url}`)
  }

  const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`)
    try {
      return await fetch(`${base}${path}`, { ...init, headers })
    } catch (err) {
      throw new CliError(`no node answers at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}): is \`dpm start\` running there? (--url URL to name another)`)
    }
  }

  return {
    url: base,
    fetch: send,
    async call<T> (method: string, path: string, body?: unknown): Promise<T> {
      const res = await send(path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        throw new CliError(`${method} ${path}: the node answered ${res.status} with something other than JSON`)
      }
      if (!res.ok) throw new CliError(`${method} ${path}: ${(json as { error?: string }).error ?? `the node answered ${res.status}`}`)
      return json as T
    }
  }
}
