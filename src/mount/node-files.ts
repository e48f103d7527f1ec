import type { TreeEntry } from './tree-listing.ts'

/** A file's size, as the gateway reports it. */
export interface FileFacts { size: number }

/** The node seen from the mount: its tree and its gateway, over HTTP. */
export interface NodeFiles {
  list(dir: string[], signal: AbortSignal): Promise<TreeEntry[]>
  /** Fetches the file through the pull-through path far enough to learn its size; undefined when the node has no such file. */
  probe(gatewayPath: string, signal: AbortSignal): Promise<FileFacts | undefined>
  /** The bytes from `offset` to the end, streamed. */
  read(gatewayPath: string, offset: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>
}

/** A failure that is the node's, not the path's: the mount answers EIO. */
export class NodeUnreachableError extends Error {
  static override name = 'NodeUnreachableError'
  override name = 'NodeUnreachableError'
}

// OCI manifests are negotiated by Accept; a reader of the tree wants them as stored
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, */*'

/**
 * The mount reads through the node's gateway, on loopback when the node is this
 * process: every verification, single-flight fill, swarm fetch and Range answer
 * the gateway gives comes with it, and `dpm mount --url` is the same code
 * against a node elsewhere.
 */
export function createNodeFiles (baseUrl: string): NodeFiles {
  const base = baseUrl.replace(/\/+$/, '')

  async function get (path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${base}${path}`, { headers: { accept: ACCEPT, ...headers }, signal, redirect: 'error' })
    } catch (err) {
      if (signal.aborted) throw err
      throw new NodeUnreachableError(`the node at ${base} did not answer ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  return {
    async list (dir, signal) {
      const response = await get(`/-/api/tree?dir=${encodeURIComponent(dir.join('/'))}`, {}, signal)
      if (!response.ok) throw new NodeUnreachableError(`the node answered ${response.status} for its tree`)
      return ((await response.json()) as { entries: TreeEntry[] }).entries
    },

    async probe (gatewayPath, signal) {
      // one byte asked for: a MISS starts the whole fill (which other readers share) and
      // answers with the size in Content-Range as soon as the upstream gave it
      const response = await get(gatewayPath, { range: 'bytes=0-0' }, signal)
      if (response.status === 416) {
        await response.body?.cancel()
        return { size: Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? 0) }
      }
      if (response.status >= 400 && response.status < 500) {
        await response.body?.cancel()
        return undefined
      }
      if (response.status === 206) {
        await response.body?.cancel()
        const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')
        if (total !== null) return { size: Number(total[1]) }
      }
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel()
        throw new NodeUnreachableError(`the node answered ${response.status} for ${gatewayPath}`)
      }
      const length = response.headers.get('content-length')
      if (response.status === 200 && length !== null) {
        await response.body?.cancel()
        return { size: Number(length) }
      }
      // the upstream did not say how long (an npm tarball on a MISS): count it through, keeping nothing
      let size = 0
      for await (const chunk of response.body ?? []) size += chunk.byteLength
      return { size }
    },

    async read (gatewayPath, offset, signal) {
      const response = await get(gatewayPath, { range: `bytes=${offset}-` }, signal)
      if (response.status !== 206 && !(response.status === 200 && offset === 0)) {
        await response.body?.cancel()
        throw new NodeUnreachableError(`the node answered ${response.status} for ${gatewayPath} from byte ${offset}`)
      }
      return response.body ?? new ReadableStream({ start: (c) => c.close() })
    }
  }
}
