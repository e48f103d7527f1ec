import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { Context } from 'hono'
import type { Logger } from 'pino'
import type { ArtifactTarget, CacheStatus, LocalTarget, MetadataTarget } from '../../formats/index.ts'
import { MethodNotAllowedError } from '../errors.ts'
import type { ArtifactCache } from '../pull/artifact-cache.ts'
import type { DocumentCache } from '../pull/document-cache.ts'
import type { FormatMount } from '../pull/format-mount.ts'
import type { Metrics } from '../node/metrics.ts'
import type { DocumentRenderer } from './document-renderer.ts'
import { nodeResponse } from './node-response.ts'
import { rawPath } from './raw-path.ts'
import { requestIdOf } from './request-ids.ts'
import { requestSignal } from './request-signal.ts'
import { sendArtifact } from './send-artifact.ts'
import { socketFd, startDiskSend, type SendFile } from './send-from-disk.ts'
import { countedBody, servedBytes } from './served-bytes.ts'
import { startedBody } from './started-body.ts'
import { toDpmError } from './to-dpm-error.ts'

export interface ServeFormatComponents {
  documents: DocumentCache
  artifacts: ArtifactCache
  renderer: DocumentRenderer
  log: Logger
  metrics?: Pick<Metrics, 'servedBytes'>
  /** Cache hits are handed to the kernel when this is here (`send-from-disk.ts`). */
  sendFile?: SendFile
}

/** How long a request may take to get its response started (headers), not to stream its body. */
const RESPONSE_DEADLINE_MS = 120_000

/** One format's routes: parse with the adapter, answer from the core, render errors in the format's shape. */
export function serveFormat (mount: FormatMount, components: ServeFormatComponents) {
  const { adapter } = mount

  return async (c: Context): Promise<Response> => {
    const request = {
      method: c.req.method,
      path: rawPath(c).slice(adapter.prefix.length) || '/',
      query: new URL(c.req.url).searchParams,
      headers: c.req.raw.headers
    }
    try {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') throw new MethodNotAllowedError(`${c.req.method} is not supported: this is a read-only mirror`)
      const target = adapter.parse(request, mount.upstream)
      if (target.kind === 'local') return local(target)
      // the deadline is for starting the response: a body streams as long as the client reads
      using deadline = requestSignal(c.req.raw.signal, RESPONSE_DEADLINE_MS)
      return target.kind === 'metadata' ? await metadata(c, target, deadline.signal) : await artifact(c, target, deadline.signal)
    } catch (err) {
      const error = toDpmError(err)
      if (error.status === 500) components.log.error({ id: requestIdOf(c), err: error.cause ?? error, path: c.req.path }, 'internal error')
      else if (error.status >= 500) components.log.warn({ id: requestIdOf(c), path: c.req.path, reason: error.message }, 'upstream failure')
      const rendered = adapter.renderError(error, request)
      // a 405 says which methods would do (RFC 9110 §15.5.6)
      const allow = error instanceof MethodNotAllowedError ? { allow: 'GET, HEAD' } : {}
      return new Response(rendered.body, { status: rendered.status, headers: { ...rendered.headers, ...allow, 'content-type': rendered.contentType } })
    }
  }

  function local (target: LocalTarget): Response {
    return new Response(target.body, { status: target.status, headers: { ...target.headers, 'content-type': target.contentType } })
  }

  async function metadata (c: Context, target: MetadataTarget, signal: AbortSignal): Promise<Response> {
    const { doc, record, status } = await components.documents.get(adapter, target, { signal, revalidate: asksToRevalidate(c) })
    const rendered = components.renderer.render(mount, target, record.cid, doc)
    const etag = `"${record.cid}.${Buffer.from(target.variant).toString('base64url')}"`
    const headers = new Headers({ ...rendered.headers, 'x-cache': status, etag, 'cache-control': `public, max-age=${target.maxAgeSeconds}` })
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers })
    headers.set('content-type', rendered.contentType)
    if (c.req.method === 'GET') servedBytes(components.metrics, adapter.name, status)(Buffer.byteLength(rendered.body))
    return new Response(rendered.body, { status: 200, headers })
  }

  async function artifact (c: Context, target: ArtifactTarget, signal: AbortSignal): Promise<Response> {
    const served = await components.artifacts.get(mount, target, { signal, range: c.req.header('range') })
    const headers = new Headers({ 'content-type': target.contentType, 'accept-ranges': 'bytes', 'cache-control': 'public, max-age=31536000, immutable', 'x-cache': served.status satisfies CacheStatus })
    let status = 200
    if (served.range !== undefined) {
      status = 206
      headers.set('content-range', `bytes ${served.range.start}-${served.range.end}/${served.size}`)
      headers.set('content-length', String(served.range.end - served.range.start + 1))
    } else if (served.size !== undefined) {
      headers.set('content-length', String(served.size))
    }
    // on Node, a GET's body goes to the socket directly (HEAD is answered by Hono as a GET without its body)
    if (c.req.method !== 'GET') return new Response(served.body, { status, headers })
    const sent = servedBytes(components.metrics, adapter.name, served.status)
    const outgoing = nodeResponse(c)
    const socket = outgoing === undefined ? undefined : socketFd(outgoing)
    const { sendFile } = components
    if (outgoing !== undefined && socket !== undefined && sendFile !== undefined && served.spans !== undefined) {
      const disk = await startDiskSend(sendFile, served.spans)
      await served.body.cancel()
      void disk.send(outgoing, socket, { status, headers: withRequestId(c, headers) }, logFor(c), sent)
      return RESPONSE_ALREADY_SENT
    }
    const body = await startedBody(served.body)
    if (outgoing === undefined) return new Response(countedBody(body, sent), { status, headers })
    void sendArtifact(outgoing, { status, headers: withRequestId(c, headers), body }, served.release, logFor(c), sent)
    return RESPONSE_ALREADY_SENT
  }

  /** Responses written past Hono carry the id its middleware would add. */
  function withRequestId (c: Context, headers: Headers): Headers {
    const id = requestIdOf(c)
    if (id !== undefined) headers.set('x-request-id', id)
    return headers
  }

  function logFor (c: Context): Logger {
    const id = requestIdOf(c)
    return id === undefined ? components.log : components.log.child({ id, path: c.req.path })
  }
}

/**
 * An explicit reload (`Cache-Control: no-cache`, `Pragma: no-cache`: apt's
 * `Acquire::http::No-Cache`, npm's `--prefer-online`) revalidates a stored
 * document first. `max-age=0` does not: pip sends it with every page.
 */
function asksToRevalidate (c: Context): boolean {
  return /(^|,)\s*no-cache\s*(,|$)/i.test(c.req.header('cache-control') ?? '') || /no-cache/i.test(c.req.header('pragma') ?? '')
}
