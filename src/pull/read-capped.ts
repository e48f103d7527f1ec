import { DocumentTooLargeError, UpstreamError } from '../errors.ts'
import { concatPadded } from '../store/padded-concat.ts'
import { bodyFailure, type UpstreamResponse } from './upstream-client.ts'

/**
 * Buffers a response body, refusing to hold more than `maxBytes` (only index
 * documents are ever buffered). A connection that breaks or ends short of its
 * Content-Length is the upstream failing (an UpstreamError), so a stored copy
 * can still be served STALE.
 */
export async function readCapped (response: UpstreamResponse, maxBytes: number, label: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) {
    await response.body.cancel()
    throw new DocumentTooLargeError(`${label} is ${declared} bytes, more than the ${maxBytes} this node buffers`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength
      if (size > maxBytes) throw new DocumentTooLargeError(`${label} is larger than the ${maxBytes} bytes this node buffers`)
      chunks.push(chunk)
    }
  } catch (err) {
    throw bodyFailure(err, label)
  }
  if (size < declared) throw new UpstreamError(`upstream ended ${label} after ${size} of ${declared} bytes`)
  return concatPadded(chunks, size)
}
