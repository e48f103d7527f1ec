import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { writeHeaders } from './node-response.ts'

/**
 * Writes an artifact's body to Node's response itself rather than through the
 * Fetch adapter, so each chunk is handed back (`release`) once the socket has
 * sent it and its buffer serves the next leaf. Waits for the socket to drain
 * between chunks; a client that leaves stops the read. A read that fails midway
 * cuts the connection: the client sees a short body, never a complete-looking one.
 * `sent` hears of the bytes of each chunk the socket took.
 */
export async function sendArtifact (outgoing: ServerResponse, response: { status: number, headers: Headers, body: ReadableStream<Uint8Array> }, release: ((chunk: Uint8Array) => void) | undefined, log: Logger, sent?: (bytes: number) => void): Promise<void> {
  writeHeaders(outgoing, response.status, response.headers)
  try {
    for await (const chunk of response.body) {
      if (outgoing.destroyed) break
      const bytes = chunk.byteLength
      const more = outgoing.write(chunk, (err) => {
        if (err == null) sent?.(bytes)
        release?.(chunk)
      })
      if (!more) await drained(outgoing)
    }
    outgoing.end()
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'artifact body failed midway: connection cut')
    outgoing.destroy()
  }
}

/** Resolves once the response wants more, or is gone. */
function drained (outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      outgoing.off('drain', done)
      outgoing.off('close', done)
      resolve()
    }
    outgoing.on('drain', done)
    outgoing.on('close', done)
  })
}
