import { DocumentTooLargeError, UpstreamError } from '../errors.ts'
import type { UpstreamClient } from '../pull/upstream-client.ts'
import type { SourceValidators } from './repository.ts'

export type FetchedListing =
  | { kind: 'not-modified' }
  | { kind: 'missing', status: number }
  | { kind: 'body', url: string, etag?: string, lastModified?: string, body: AsyncIterable<Uint8Array> }

/**
 * GETs one listing document, conditionally when validators from the last pull
 * are known (`If-None-Match`, `If-Modified-Since`). The body streams and stops
 * with an error past `maxBytes`; a 404 or 410 is `missing` (the caller may try
 * another form of the index), any other failure an error naming the URL.
 */
export async function fetchListing (upstream: Pick<UpstreamClient, 'fetch'>, source: SourceValidators, init: { maxBytes: number, signal: AbortSignal, accept?: string }): Promise<FetchedListing> {
  const headers: Record<string, string> = {}
  if (init.accept !== undefined) headers.accept = init.accept
  if (source.etag !== undefined) headers['if-none-match'] = source.etag
  if (source.lastModified !== undefined) headers['if-modified-since'] = source.lastModified
  const response = await upstream.fetch(source.url, { headers, signal: init.signal })
  if (response.status === 304) {
    await response.body.cancel()
    return { kind: 'not-modified' }
  }
  if (response.status === 404 || response.status === 410) {
    await response.body.cancel()
    return { kind: 'missing', status: response.status }
  }
  if (!response.ok) {
    await response.body.cancel()
    throw new UpstreamError(`${source.url} answered ${response.status}`)
  }
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > init.maxBytes) {
    await response.body.cancel()
    throw new DocumentTooLargeError(`${source.url} is ${declared} bytes, more than the ${init.maxBytes} a listing may be`)
  }
  return {
    kind: 'body',
    url: source.url,
    ...(response.headers.get('etag') === null ? {} : { etag: response.headers.get('etag')! }),
    ...(response.headers.get('last-modified') === null ? {} : { lastModified: response.headers.get('last-modified')! }),
    body: capped(response.body, init.maxBytes, source.url)
  }
}

/** Passes chunks on until more than `maxBytes` have come, then fails (and so cancels the body). */
export async function * capped (bytes: AsyncIterable<Uint8Array>, maxBytes: number, label: string): AsyncGenerator<Uint8Array> {
  let total = 0
  for await (const chunk of bytes) {
    total += chunk.byteLength
    if (total > maxBytes) throw new DocumentTooLargeError(`${label} is larger than the ${maxBytes} bytes a listing may be`)
    yield chunk
  }
}
