import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export interface OciImage {
  /** `test/app` */
  repository: string
  tag: string
  /** Digest of the multi-arch index the tag names. */
  index: string
  /** Digests of the per-platform manifests, and of every blob (configs and layers). */
  manifests: string[]
  blobs: string[]
}

/**
 * Debian's docker-registry (the Docker distribution registry) on loopback,
 * seeded by `skopeo copy --all` from an OCI layout made here (a multi-arch index,
 * two platforms, several gzip layers), behind a front that demands bearer tokens
 * from its own token server and redirects blob downloads to a second host — as
 * Docker Hub sends them to a CDN — which refuses a request carrying Authorization.
 */
export interface OciRegistry {
  /** `http://127.0.0.1:PORT` of the token-guarded front: the upstream a node is given. */
  url: string
  /** The registry itself, without the front: no tokens, blobs served in place. */
  direct: string
  image: OciImage
  /** Paths asked of the front, in order (token requests included). */
  requests: string[]
  /** Blob digests fetched from the CDN host, in order. */
  cdnRequests: string[]
  /** Requests that reached the CDN host with an Authorization header (refused there). */
  leakedAuthorization: number
  /** Tokens the token server issued. */
  tokensIssued: number
  /** The user names token requests carried (Basic credentials), in order; `''` for an anonymous one. */
  tokenUsers: string[]
  /** Switched off, the front and the CDN drop every connection. */
  up: boolean
  /** Blob digest → other bytes the CDN sends in its place. */
  tampered: Map<string, Uint8Array>
  close(): Promise<void>
}

/** A layout with one image for linux/amd64 and linux/arm64, each of `layers` random layers of `layerBytes`. */
async function makeLayout (dir: string, layers: number, layerBytes: number): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256')
  await mkdir(blobs, { recursive: true })
  const put = async (bytes: Uint8Array): Promise<{ digest: string, size: number }> => {
    const hex = sha256(bytes)
    await writeFile(join(blobs, hex), bytes)
    return { digest: `sha256:${hex}`, size: bytes.byteLength }
  }
  const manifests = []
  for (const architecture of ['amd64', 'arm64']) {
    const layerDescriptors = []
    const diffIds = []
    for (let i = 0; i < layers; i++) {
      const files = join(dir, 'build', architecture, String(i))
      await mkdir(files, { recursive: true })
      await writeFile(join(files, `layer-${i}.bin`), randomBytes(layerBytes))
      const tar = execFileSync('tar', ['-C', files, '-cf', '-', '.'], { maxBuffer: 1 << 30 })
      diffIds.push(`sha256:${sha256(tar)}`)
      const gz = execFileSync('gzip', ['-n', '-1'], { input: tar, maxBuffer: 1 << 30 })
      layerDescriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(gz)) })
    }
    const config = await put(Buffer.from(JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } })))
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescriptors }))
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...(await put(manifest)), platform: { architecture, os: 'linux' } })
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }))
  const top = await put(index)
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...top, annotations: { 'org.opencontainers.image.ref.name': 'seed' } }] }))
}

/**
 * Debian's docker-registry with its storage in `dir`, on a free loopback port;
 * `extra` is more of its YAML configuration (`proxy: { remoteurl: … }` makes it a
 * pull-through cache).
 */
export async function startDockerRegistry (dir: string, extra = ''): Promise<{ url: string, pid: number, stop(): Promise<void> }> {
  await mkdir(dir, { recursive: true })
  const probe = createServer()
  const url = await listen(probe)
  await new Promise((resolve) => probe.close(resolve))
  await writeFile(join(dir, 'config.yml'), `version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} }, delete: { enabled: true } }
http: { addr: ${new URL(url).host} }
${extra}
`)
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/v2/`)).ok) break
    } catch {}
    if (i > 100 || child.exitCode !== null) throw new Error('docker-registry did not start')
    await sleep(100)
  }
  return {
    url,
    pid: child.pid!,
    async stop () {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
    }
  }
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Passes a request on to the registry and its answer back. */
function forward (registry: string, req: IncomingMessage, res: ServerResponse, path = req.url ?? '/'): void {
  const upstream = httpRequest(`${registry}${path}`, { method: req.method, headers: { ...req.headers, host: new URL(registry).host, authorization: '' } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => { res.destroy() })
  req.pipe(upstream)
}

export async function startOciRegistry (init: { repository?: string, tag?: string, layers?: number, layerBytes?: number } = {}): Promise<OciRegistry> {
  const repository = init.repository ?? 'test/app'
  const tag = init.tag ?? '1.0'
  const dir = await mkdtemp(join(tmpdir(), 'dpm-oci-'))
  const layout = join(dir, 'layout')
  await makeLayout(layout, init.layers ?? 3, init.layerBytes ?? 256 * 1024)

  // the registry itself: plain, no auth, on a port of its own
  const plain = await startDockerRegistry(join(dir, 'registry'))
  const registryAddress = plain.url
  execFileSync('skopeo', ['copy', '--all', '--quiet', '--dest-tls-verify=false', `oci:${layout}:seed`, `docker://${new URL(registryAddress).host}/${repository}:${tag}`])
  const index = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${new URL(registryAddress).host}/${repository}:${tag}`]).toString()) as { manifests: Array<{ digest: string }> }
  const indexDigest = `sha256:${sha256(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${new URL(registryAddress).host}/${repository}:${tag}`]))}`
  const blobs: string[] = []
  for (const { digest } of index.manifests) {
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${new URL(registryAddress).host}/${repository}@${digest}`]).toString()) as { config: { digest: string }, layers: Array<{ digest: string }> }
    blobs.push(manifest.config.digest, ...manifest.layers.map((l) => l.digest))
  }

  const issued = new Set<string>()
  const registry: OciRegistry = {
    url: '',
    direct: registryAddress,
    image: { repository, tag, index: indexDigest, manifests: index.manifests.map((m) => m.digest), blobs },
    requests: [],
    cdnRequests: [],
    leakedAuthorization: 0,
    tokensIssued: 0,
    tokenUsers: [],
    up: true,
    tampered: new Map(),
    async close () {
      for (const server of [front, cdn]) {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
      await plain.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }

  // the CDN: serves blobs it is sent to, and refuses a request that carries the registry's token
  const cdn = createServer((req, res) => {
    if (!registry.up) { req.socket.destroy(); return }
    const digest = /^\/blobs\/([^/?]+)\/([^/?]+)$/.exec(req.url ?? '')
    if (digest === null) { res.writeHead(404).end(); return }
    registry.cdnRequests.push(decodeURIComponent(digest[2]!))
    if (req.headers.authorization !== undefined) {
      registry.leakedAuthorization++
      res.writeHead(400).end('Only one auth mechanism allowed')
      return
    }
    const tampered = registry.tampered.get(decodeURIComponent(digest[2]!))
    if (tampered !== undefined) { res.writeHead(200, { 'content-length': tampered.byteLength }).end(tampered); return }
    forward(registryAddress, req, res, `/v2/${decodeURIComponent(digest[1]!)}/blobs/${digest[2]}`)
  })
  const cdnUrl = await listen(cdn)

  // the front: a token server at /token, and the registry behind it for whoever shows a token it issued
  const front = createServer((req, res) => {
    registry.requests.push(req.url ?? '/')
    if (!registry.up) { req.socket.destroy(); return }
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/token') {
      const token = randomBytes(16).toString('hex')
      issued.add(token)
      registry.tokensIssued++
      const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
      registry.tokenUsers.push(basic === undefined ? '' : Buffer.from(basic, 'base64').toString().split(':')[0]!)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }))
      return
    }
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (token === undefined || !issued.has(token)) {
      const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(url.pathname)?.[1]
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="${registry.url}/token",service="dpm-test"${repo === undefined ? '' : `,scope="repository:${repo}:pull"`}`
      }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
      return
    }
    const blob = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(url.pathname)
    if (blob !== null && req.method === 'GET') {
      res.writeHead(307, { location: `${cdnUrl}/blobs/${encodeURIComponent(blob[1]!)}/${blob[2]}` }).end()
      return
    }
    forward(registryAddress, req, res)
  })
  registry.url = await listen(front)
  return registry
}
