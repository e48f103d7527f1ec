import { UpstreamTimeoutError, UpstreamUnreachableError, isTimeout } from '../errors.ts'

export interface UpstreamRequest {
  headers?: Record<string, string>
  signal: AbortSignal
}

/** Fetches from upstream registries and turns transport failures into typed errors. */
export interface UpstreamClient {
  fetch(url: string, request: UpstreamRequest): Promise<Response>
}

export interface UpstreamClientInit {
  userAgent: string
  onRequest?(url: URL, outcome: string): void
}

export function createUpstreamClient (init: UpstreamClientInit): UpstreamClient {
  return {
    async fetch (url, request) {
      const target = new URL(url)
      try {
        const response = await fetch(target, {
          headers: { 'user-agent': init.userAgent, ...request.headers },
          signal: request.signal,
          redirect: 'follow'
        })
        init.onRequest?.(target, String(response.status))
        return response
      } catch (err) {
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
