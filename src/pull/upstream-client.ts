import { UpstreamError, UpstreamTimeoutError, UpstreamUnreachableError, isTimeout } from '../errors.ts'
import type { Credentials } from '../../formats/index.ts'
import { createBearerTokens, parseBearerChallenge, type BearerChallenge } from './bearer-auth.ts'

export interface UpstreamRequest {
  headers?: Record<string, string>
  signal: AbortSignal
  /** Given to a registry's token server when it asks (a 401 with a `Bearer` challenge); anonymous without. */
  credentials?: Credentials
}

/** Fetches from upstream registries and turns transport failures into typed errors. */
export interface UpstreamClient {
  fetch(url: string, request: UpstreamRequest): Promise<Response>
}

export interface UpstreamClientInit {
  userAgent: string
  onRequest?(url: URL, outcome: string): void
  /** Seconds from sending to the final response's headers (after a token round trip, if any). */
  onHeaders?(url: URL, seconds: number): void
  /** A request that shared a token fetch already under way. */
  onTokenJoin?(): void
}

/**
 * Where a challenge applies: the directory above the request's last two segments
 * (`/v2/library/alpine` for its manifests and blobs), so later requests there
 * carry a token at once instead of meeting a 401 first.
 */
const scopeOf = (url: URL): string => `${url.origin}${url.pathname.split('/').slice(0, -2).join('/')}`

export function createUpstreamClient (init: UpstreamClientInit): UpstreamClient {
  const tokens = createBearerTokens({ fetch, onJoin: init.onTokenJoin })
  const challenges = new Map<string, BearerChallenge>()

  async function send (target: URL, request: UpstreamRequest, challenge: BearerChallenge | undefined): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': init.userAgent, ...request.headers }
    // fetch drops Authorization when a redirect leaves the origin (a blob handed to a CDN)
    if (challenge !== undefined) headers.authorization = `Bearer ${await tokens.token(challenge, request.credentials, request.signal)}`
    return await fetch(target, { headers, signal: request.signal, redirect: 'follow' })
  }

  return {
    async fetch (url, request) {
      const target = new URL(url)
      const started = performance.now()
      try {
        let response = await send(target, request, challenges.get(scopeOf(target)))
        const challenge = response.status === 401 ? parseBearerChallenge(response.headers.get('www-authenticate')) : undefined
        if (challenge !== undefined) {
          await response.body?.cancel()
          challenges.set(scopeOf(target), challenge)
          response = await send(target, request, challenge)
        }
        init.onHeaders?.(target, (performance.now() - started) / 1000)
        init.onRequest?.(target, String(response.status))
        return response
      } catch (err) {
        if (err instanceof UpstreamError) throw err
        if (request.signal.aborted && !isTimeout(request.signal.reason)) {
          init.onRequest?.(target, 'aborted')
          throw request.signal.reason
        }
        if (isTimeout(err) || isTimeout(request.signal.reason)) {
          init.onRequest?.(target, 'timeout')
          throw new UpstreamTimeoutError(`upstream ${target.host} did not answer in time`, { cause: err })
        }
        init.onRequest?.(target, 'unreachable')
        const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message
        throw new UpstreamUnreachableError(`upstream ${target.host} is unreachable: ${reason}`, { cause: err })
      }
    }
  }
}
