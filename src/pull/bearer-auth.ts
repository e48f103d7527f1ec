import type { Credentials } from '../../formats/index.ts'
import { UpstreamError } from '../errors.ts'
import { createSingleFlight } from './single-flight.ts'

interface Token { token: string, expiresAt: number }

/** `Bearer realm="…",service="…",scope="…"` of a 401's `WWW-Authenticate`, as registries send it. */
export interface BearerChallenge { realm: string, service?: string, scope?: string }

/** Tokens live this long when the token server does not say (the Docker token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60
/** A token is renewed this long before it expires, so a request never carries one about to lapse. */
const EXPIRY_MARGIN_MS = 5_000

export function parseBearerChallenge (header: string | null): BearerChallenge | undefined {
  const match = /^\s*Bearer\s+(.*)$/i.exec(header ?? '')
  if (match === null) return undefined
  const params = Object.fromEntries([...match[1]!.matchAll(/([a-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/gi)].map((m) => [m[1]!.toLowerCase(), m[2] ?? m[3] ?? '']))
  if (params.realm === undefined || params.realm === '') return undefined
  return { realm: params.realm, service: params.service, scope: params.scope }
}

/**
 * The anonymous (or credentialed) bearer-token flow of OCI registries: a 401 names
 * a token server; its token is fetched once, shared by concurrent requests, and
 * reused for the same scope until it expires.
 */
export function createBearerTokens (components: { fetch: typeof fetch, now?: () => number, onJoin?(): void }) {
  const now = components.now ?? Date.now
  const tokens = new Map<string, Token>()
  const fetches = createSingleFlight<Token>({ onJoin: components.onJoin })

  async function fetchToken (challenge: BearerChallenge, credentials: Credentials | undefined, signal: AbortSignal): Promise<Token> {
    const url = new URL(challenge.realm)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UpstreamError(`a token realm that is not http(s): ${challenge.realm}`)
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service)
    if (challenge.scope !== undefined) url.searchParams.set('scope', challenge.scope)
    const headers: Record<string, string> = {}
    if (credentials !== undefined) headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    const response = await components.fetch(url, { headers, signal })
    if (!response.ok) {
      await response.body?.cancel()
      throw new UpstreamError(`the token server ${url.host} answered ${response.status}`)
    }
    const body = await response.json().catch(() => ({})) as { token?: unknown, access_token?: unknown, expires_in?: unknown }
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined
    if (token === undefined || token === '') throw new UpstreamError(`the token server ${url.host} gave no token`)
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS
    return { token, expiresAt: now() + seconds * 1000 - EXPIRY_MARGIN_MS }
  }

  return {
    /** A token for the challenge: a cached one while it is valid, else a new one (one fetch for all who ask at once). */
    async token (challenge: BearerChallenge, credentials: Credentials | undefined, signal: AbortSignal): Promise<string> {
      const key = `${challenge.realm}|${challenge.service ?? ''}|${challenge.scope ?? ''}|${credentials?.username ?? ''}`
      const cached = tokens.get(key)
      if (cached !== undefined && cached.expiresAt > now()) return cached.token
      // one caller leaving does not cancel the fetch the others wait for
      const fetched = await fetches.run(key, signal, async (shared) => await fetchToken(challenge, credentials, shared))
      tokens.set(key, fetched)
      return fetched.token
    }
  }
}
