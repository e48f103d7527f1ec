import { closeSync, fstatSync, openSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { once } from 'node:events'
import { constants } from 'node:os'
import { NotFoundError } from 'interface-store'
import type { Logger } from 'pino'
import type { FileSpan } from '../store/content-store.ts'
import { writeHeaders } from './node-response.ts'

/** `native/send-file.c`: sendfile(2) from a file to a socket, on the event loop. */
export interface SendFile {
  send(socket: number, file: number, offset: number, length: number, done: (errno: number, sent: number) => void): unknown
  cancel(transfer: unknown): void
}

/** The sendfile addon, if `native/build.sh` could build it at install (Linux, a C compiler, Node's headers). */
export function loadSendFile (): SendFile | undefined {
  try {
    return createRequire(import.meta.url)('../../native/build/send-file.node') as SendFile
  } catch {
    return undefined
  }
}

/** The descriptor of the plain TCP socket a response is written to: none for TLS, or for a response still queued behind another. */
export function socketFd (outgoing: ServerResponse): number | undefined {
  const socket = outgoing.socket as (Socket & { _handle?: { fd?: unknown }, encrypted?: boolean }) | null
  const fd = socket?._handle?.fd
  return socket?.encrypted !== true && typeof fd === 'number' && fd >= 0 ? fd : undefined
}

export interface DiskSend {
  /** Writes the response: headers, then every span, the files by the kernel. A failure midway cuts the connection. */
  send(outgoing: ServerResponse, socket: number, response: { status: number, headers: Headers }, log: Logger, sent?: (bytes: number) => void): Promise<void>
}

/**
 * A stored file sent the way nginx sends one: the kernel moves each block
 * file's bytes to the socket, and they never pass through the node's memory.
 * The first file is opened here, before any header is written, so a block
 * missing from the start is still an error status, not a cut connection.
 *
 * Block files are opened and closed on the event loop, as nginx does: a 1 MiB
 * sendfile to a client that keeps up returns at once, and a trip to the thread
 * pool per block kept the socket waiting (1 GiB to one client: the main thread
 * idle for 200 of 420 ms; opening here: 13 µs a file, no idle).
 */
export async function startDiskSend (sendFile: SendFile, spans: AsyncIterable<FileSpan>): Promise<DiskSend> {
  const iterator = spans[Symbol.asyncIterator]()
  /** The next span, its file open. */
  const upcoming = async (): Promise<Opened | undefined> => {
    const next = await iterator.next()
    if (next.done === true) return undefined
    return 'path' in next.value ? { span: next.value, fd: openBlock(next.value.path) } : { span: next.value }
  }
  let first: Opened | undefined
  try {
    first = await upcoming()
  } catch (err) {
    await iterator.return?.()
    throw err
  }

  return {
    async send (outgoing, socket, { status, headers }, log, sent) {
      writeHeaders(outgoing, status, headers)
      outgoing.flushHeaders()
      let transfer: unknown
      let gone = false
      const leave = (): void => {
        gone = true
        if (transfer !== undefined) sendFile.cancel(transfer)
      }
      outgoing.once('close', leave)
      let current = first
      try {
        // the kernel's bytes go after everything Node has queued on the socket
        if (outgoing.socket !== null && outgoing.socket.writableLength > 0) await once(outgoing.socket, 'drain')
        while (current !== undefined && !gone) {
          const { span, fd } = current
          if (fd === undefined) {
            const { bytes } = span as { bytes: Uint8Array }
            await written(outgoing, bytes)
            sent?.(bytes.byteLength)
          } else {
            const { path, offset, length = fstatSync(fd).size - offset } = span as { path: string, offset: number, length?: number }
            await new Promise<void>((resolve, reject) => {
              transfer = sendFile.send(socket, fd, offset, length, (errno, bytes) => {
                transfer = undefined
                sent?.(bytes)
                if (errno === 0) resolve()
                else reject(new Error(`sendfile: ${errnoName(errno)} after ${bytes} of ${length} bytes of ${path}`))
              })
            })
            closeSync(fd)
          }
          current = undefined // closed: `finally` must not close it again if the next fails to open
          current = await upcoming()
        }
        if (!gone) outgoing.end()
      } catch (err) {
        if (!gone) log.warn({ err: (err as Error).message }, 'artifact body failed midway: connection cut')
        outgoing.destroy()
      } finally {
        outgoing.off('close', leave)
        if (current?.fd !== undefined) closeSync(current.fd)
        await iterator.return?.()
      }
    }
  }
}

interface Opened { span: FileSpan, fd?: number }

/** A block file, open for reading; a missing one is the store's own not-found. */
function openBlock (path: string): number {
  try {
    return openSync(path, 'r')
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFoundError(String(err)) : err
  }
}

/** Written through the response and handed to the kernel: what is sent next follows it. */
async function written (outgoing: ServerResponse, bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => { outgoing.write(bytes, (err) => { if (err == null) resolve(); else reject(err) }) })
}

function errnoName (errno: number): string {
  return Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`
}
