import { mkdir, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { RequestError, getRequestListener } from '@hono/node-server'
import { createServer } from 'node:http'
import type { Logger } from 'pino'
import aptPlugin from '../../formats/apt/index.ts'
import cargoPlugin from '../../formats/cargo/index.ts'
import { createDdsPlugin } from '../../formats/dds/index.ts'
import ociPlugin from '../../formats/oci/index.ts'
import pypiPlugin from '../../formats/pypi/index.ts'
import { npmAdapter } from '../../formats/npm/index.ts'
import { NATIVE_PACKUMENTS } from '../../formats/npm/npm-document.ts'
import { createCatalog } from '../catalog/catalog.ts'
import { loadPlugins } from '../plugins/load-plugins.ts'
import { hostArchitecture } from '../prefetch/apt-packages.ts'
import { createListings } from '../pull/listings.ts'
import { loopbackUrl, mountNodeTree } from '../mount/mount-node.ts'
import type { NodeSettings } from '../config/load-settings.ts'
import { createDocumentRenderer } from '../gateway/document-renderer.ts'
import { createGateway } from '../gateway/create-gateway.ts'
import { proxiedPath } from '../gateway/proxy-request.ts'
import { refuseBadHost } from '../gateway/refuse-bad-host.ts'
import { loadSendFile } from '../gateway/send-from-disk.ts'
import type { Health } from '../gateway/health.ts'
import { createLocalIndex, type LocalIndex } from '../index/local-index.ts'
import { createPeerIndex } from '../index/peer-index.ts'
import { createSwarmIndex, type SwarmIndex } from '../index/swarm-index.ts'
import { createTrustPolicy } from '../index/trust-policy.ts'
import { keepPeers } from '../swarm/keep-peers.ts'
import { createFanOut, type FanOut } from '../swarm/fan-out.ts'
import { loadBlock, type BlockGetter } from '../store/read-file.ts'
import type { CID } from 'multiformats/cid'
import { createArtifactCache, type ArtifactCache } from '../pull/artifact-cache.ts'
import { createDocumentCache } from '../pull/document-cache.ts'
import { createPinnedKeys } from '../pull/pinned-keys.ts'
import type { FormatMount, FormatPluginFactory } from '../../formats/index.ts'
import { createUpstreamClient } from '../pull/upstream-client.ts'
import { createContentStore } from '../store/content-store.ts'
import { dialSeeds, isSeedAddress } from '../swarm/dial-seeds.ts'
import { openHelia } from '../store/open-helia.ts'
import { BlocksInUse } from '../store/blocks-in-use.ts'
import { loadPins } from '../store/pins.ts'
import { ReadLeases } from '../store/read-leases.ts'
import { createStoreKeeper, type StoreKeeper } from '../store/store-keeper.ts'
import { createUseClock } from '../store/use-clock.ts'
import { createActivity } from './activity.ts'
import { createMetrics } from './metrics.ts'
import { createNodeStatus } from './node-status.ts'
import { VERSION } from './version.ts'

export interface DpmNode {
  /** `http://host:port` the gateway listens on (the chosen port when `DPM_HTTP_PORT=0`). */
  readonly url: string
  readonly publicUrl: string
  /** What this node has stored. */
  readonly index: LocalIndex
  health(): Health
  /** Waits (up to `ms`) for what the node has answered to be stored and recorded: a client has a document or an artifact before its record is written. */
  storing(ms: number): Promise<void>
  /** Stops accepting, lets in-flight responses end (up to a grace period), then closes the stores. */
  stop(): Promise<void>
}

/** Formats that ship with the node but are built on the plugin API alone. */
const BUILTIN_PLUGINS = [{ name: 'pypi', factory: pypiPlugin }, { name: 'apt', factory: aptPlugin }, { name: 'oci', factory: ociPlugin }, { name: 'cargo', factory: cargoPlugin }]

/** How long in-flight responses may run on after a stop before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000

/** Builds and starts a whole node: store, swarm (when keyed), pull-through core, gateway. */
export async function startNode (settings: NodeSettings, components: { log: Logger, now?: () => number, plugins?: Array<{ name: string, factory: FormatPluginFactory }>, activityIntervalMs?: number }): Promise<DpmNode> {
  const { log } = components
  let artifacts: ArtifactCache | undefined
  let peersConnected = (): number => 0
  let keeper: StoreKeeper | undefined
  const metrics = createMetrics({
    inflightFills: () => artifacts?.inflight ?? 0,
    peersConnected: () => peersConnected(),
    storeBytes: () => keeper?.usedBytes() ?? 0,
    storeLimitBytes: () => settings.max_store
  })
  const lifetime = new AbortController()
  let ddsRepositories: Array<{ name: string, url: string }> = []
  const mounts: FormatMount[] = []
  if (settings.npm_upstream !== undefined) {
    mounts.push({ adapter: npmAdapter, upstream: settings.npm_upstream })
    if (NATIVE_PACKUMENTS) log.info('npm packuments are abbreviated natively (simdjson)')
    else log.info('the packument addon was not built at install (native/build.sh): npm packuments are abbreviated in JS')
  } else log.warn('DPM_NPM_UPSTREAM is not set and `npm config get registry` gave nothing: npm is disabled')
  // plugins first: a bad one stops the node before anything is written to the data dir
  mounts.push(...await loadPlugins({
    specifiers: settings.plugins,
    // dds also serves the repositories added to the catalog (`dpm repo add --format dds`), asked per request
    builtins: [...BUILTIN_PLUGINS, { name: 'dds', factory: createDdsPlugin({ repositories: () => ddsRepositories }) }],
    given: components.plugins ?? [],
    sections: settings.sections ?? {},
    env: settings.plugin_env ?? {},
    taken: mounts.map((m) => ({ prefix: m.adapter.prefix, by: m.adapter.name }))
  }))

  const spoolDir = join(settings.data_dir, 'spool')
  await rm(spoolDir, { recursive: true, force: true })
  await mkdir(spoolDir, { recursive: true })

  const heliaNode = await openHelia({ dataDir: settings.data_dir, swarmKey: settings.swarm_key, listen: settings.p2p_listen, bootstrap: settings.bootstrap, mdns: settings.mdns, registry: metrics.registry })
  if (heliaNode.libp2p === undefined) log.info('no swarm key set: running alone, without P2P')
  else log.info({ peerId: heliaNode.peerId.toString(), multiaddrs: heliaNode.libp2p.getMultiaddrs().map(String) }, 'joined the private swarm')

  let swarm: SwarmIndex | undefined
  const clock = createUseClock({ datastore: heliaNode.helia.datastore, log, now: components.now })
  const index = createLocalIndex(heliaNode.helia, {
    onPut: (record) => {
      clock.stored(record.key)
      keeper?.stored()
      swarm?.publish(record).catch((err: Error) => log.warn({ err: err.message }, 'could not publish a record'))
    },
    onGet: (key) => { clock.used(key) }
  })
  const pins = await loadPins(heliaNode.helia)
  const inUse = new BlocksInUse()
  const leases = new ReadLeases()
  const content = createContentStore({ blockstore: heliaNode.helia.blockstore, blockFiles: heliaNode.blockFiles, inUse, leases })
  const blocks = heliaNode.helia.blockstore as unknown as BlockGetter & { put(cid: CID, bytes: Uint8Array): Promise<unknown> }
  let unkeep = (): void => {}
  let fanOut: FanOut | undefined
  if (heliaNode.libp2p !== undefined) {
    const libp2p = heliaNode.libp2p
    peersConnected = () => libp2p.getPeers().length
    const stopKeeping = keepPeers(libp2p, log)
    const stopSeeding = dialSeeds(libp2p, settings.bootstrap.filter(isSeedAddress), log)
    unkeep = () => { stopSeeding(); stopKeeping() }
    fanOut = createFanOut({ self: heliaNode.peerId.toString(), peers: () => libp2p.getPeers(), wantsFrom: heliaNode.wantsFrom })
    swarm = createSwarmIndex({
      libp2p: heliaNode.libp2p,
      privateKey: heliaNode.privateKey,
      peerId: heliaNode.peerId.toString(),
      localIndex: index,
      peerIndex: createPeerIndex(heliaNode.helia),
      blocks: { put: (cid, bytes) => blocks.put(cid, bytes), get: (cid, { signal }) => loadBlock(blocks, cid, { signal, offline: false }), delete: (cid) => heliaNode.blockFiles.delete(cid) },
      trust: createTrustPolicy(settings.trusted_peers),
      metrics,
      log
    })
  }
  const upstream = createUpstreamClient({
    userAgent: `dpm/${VERSION}`,
    onRequest: (url, outcome) => { metrics.upstreamRequests.inc({ host: url.host, outcome }) },
    onHeaders: (url, seconds) => { metrics.upstreamDuration.observe({ host: url.host }, seconds) },
    onTokenJoin: () => { metrics.singleFlightJoins.inc({ kind: 'token' }) }
  })
  const catalog = createCatalog(
    { dbFile: join(settings.data_dir, 'catalog.db'), tmpDir: spoolDir, npmUpstream: settings.npm_upstream, defaultArchitecture: hostArchitecture() },
    { upstream, index, log, now: components.now, signal: lifetime.signal, onChange: () => { ddsRepositories = catalog.ddsRepositories() } }
  )
  ddsRepositories = catalog.ddsRepositories()
  const documents = createDocumentCache({ index, content, upstream, now: components.now, swarm, blocks, log, metrics })
  const listings = createListings({ datastore: heliaNode.helia.datastore, content, log })
  await listings.resume(mounts)
  artifacts = createArtifactCache({ index, content, documents, listings, upstream, log, swarm, fanOut, metrics, now: components.now }, { spoolDir, lifetime: lifetime.signal })
  const pinnedKeys = createPinnedKeys({ pins, mounts, read: async (cid, maxBytes) => await content.readAll(cid, { maxBytes }), log })
  keeper = createStoreKeeper({
    index,
    blockFiles: heliaNode.blockFiles,
    pinned: async (records) => (await pinnedKeys.closure((key) => records.get(key))).kept,
    clock,
    leases,
    inUse,
    alsoLive: () => swarm?.liveBlocks() ?? [],
    onEvict: (record) => {
      metrics.evictions.inc()
      swarm?.withdraw(record.key).catch((err: Error) => log.warn({ err: err.message }, 'could not announce an eviction'))
    },
    log,
    now: components.now
  }, { limitBytes: settings.max_store })
  keeper.stored() // a limit lowered since the last run applies at once

  let publicUrl = ''
  const renderer = createDocumentRenderer({ baseUrl: (mount) => `${publicUrl}${mount.adapter.prefix.slice(1)}/` })
  let stopping = false
  const health = (): Health => ({
    status: stopping ? 'stopping' : 'ok',
    version: VERSION,
    peerId: heliaNode.peerId.toString(),
    multiaddrs: heliaNode.libp2p?.getMultiaddrs().map(String) ?? [],
    peers: heliaNode.libp2p?.getPeers().length ?? 0,
    swarm: heliaNode.libp2p !== undefined,
    formats: mounts.map((m) => ({ name: m.adapter.name, prefix: `${m.adapter.prefix}/`, upstream: m.upstream }))
  })
  const activity = createActivity({ intervalMs: components.activityIntervalMs })
  const libp2p = heliaNode.libp2p
  const status = createNodeStatus({
    health,
    publicUrl: () => publicUrl,
    peers: () => libp2p?.getPeers().map((id) => ({ id: id.toString(), addresses: libp2p.getConnections(id).map((c) => c.remoteAddr.toString()) })) ?? [],
    store: async () => ({ usedBytes: keeper!.usedBytes(), limitBytes: keeper!.limitBytes, pinned: pins.list().length }),
    activity
  })
  const sendFile = settings.sendfile ? loadSendFile() : undefined
  if (sendFile !== undefined) log.info('cache hits are handed to the kernel (sendfile)')
  else if (settings.sendfile) log.info('the sendfile addon was not built at install (native/build.sh): cache hits are copied through the node')
  const app = createGateway({ mounts, documents, artifacts, renderer, metrics, log, health, status, activity, index, store: { pins, pinnedKeys, keeper }, adminToken: settings.admin_token, catalog, listings, sendFile })

  const listener = getRequestListener(app.fetch, {
    // a request Hono cannot parse that got past refuseBadHost: JSON, as the node's own errors are
    errorHandler: (err: unknown) => Response.json(
      { error: err instanceof RequestError ? `bad request: ${err.message}` : 'internal error' },
      { status: err instanceof RequestError ? 400 : 500 }
    )
  })
  const server = createServer((req, res) => {
    if (req.url !== undefined && !req.url.startsWith('/')) {
      // a proxy request (apt's `Acquire::http::Proxy`): served as the path of the mount it names, or refused
      const path = proxiedPath(req.url, mounts)
      if (path === undefined) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `not a proxy for ${req.url.slice(0, 200)}: this node fetches only from its configured upstreams` }))
        return
      }
      req.url = path
    }
    // Hono refuses a raw backslash before routing; encoded, the format judges it and answers in its own shape
    if (req.url?.includes('\\') === true) req.url = req.url.replaceAll('\\', '%5C')
    if (refuseBadHost(req, res, mounts)) return
    void listener(req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(settings.http_port, settings.http_host, () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  const host = settings.http_host.includes(':') ? `[${settings.http_host}]` : settings.http_host
  const url = `http://${host}:${port}`
  publicUrl = settings.public_url ?? `${url}/`
  log.info({ url, publicUrl, formats: mounts.map((m) => m.adapter.prefix) }, 'gateway listening')
  // DPM_MOUNT: the read-only FUSE view, a client of this gateway (`src/mount/`)
  const mounted = settings.mount === undefined ? undefined : await mountNodeTree(settings.mount, loopbackUrl(settings.http_host, port), log)

  /** A client has the last byte of an artifact once it is verified, a document once it is read: their records follow. */
  async function storing (ms: number): Promise<void> {
    await Promise.all([artifacts?.storing(ms), documents.storing(ms)])
  }

  return {
    url,
    index,
    get publicUrl () { return publicUrl },
    health,
    storing,
    async stop () {
      if (stopping) return
      stopping = true
      // unmounted first, while the gateway still answers the reads under way
      await mounted?.close().catch((err: Error) => log.warn({ err: err.message }, 'could not unmount the cache'))
      log.info('stopping: no new requests, waiting for in-flight responses')
      const closed = new Promise<void>((resolve) => server.close(() => { resolve() }))
      server.closeIdleConnections()
      const grace = setTimeout(() => { server.closeAllConnections() }, SHUTDOWN_GRACE_MS)
      await closed
      clearTimeout(grace)
      await storing(SHUTDOWN_GRACE_MS)
      lifetime.abort(new Error('node stopping'))
      activity.stop()
      await swarm?.stop()
      unkeep()
      await heliaNode.stop()
      catalog.close()
      log.info('stopped')
    }
  }
}
