import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/node/logger.ts'
import { startNode, type DpmNode } from '../../src/node/create-node.ts'
import type { NodeSettings } from '../../src/config/load-settings.ts'

export interface TestNode {
  node: DpmNode
  url: string
  dataDir: string
  /** Parsed log lines, oldest first. */
  logs: Array<Record<string, unknown>>
  /** Advance the node's clock (for freshness). */
  advance(ms: number): void
  stop(): Promise<void>
  /** Stop and delete the data dir. */
  destroy(): Promise<void>
}

/** An in-process node on a free loopback port with a fresh data dir, pointed at `npmUpstream`. */
export async function startTestNode (init: { npmUpstream: string, dataDir?: string, settings?: Partial<NodeSettings>, activityIntervalMs?: number }): Promise<TestNode> {
  const dataDir = init.dataDir ?? await mkdtemp(join(tmpdir(), 'dpm-test-'))
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      callback()
    }
  })
  let offset = 0
  const node = await startNode({
    data_dir: dataDir,
    http_host: '127.0.0.1',
    http_port: 0,
    p2p_listen: [],
    bootstrap: [],
    mdns: false,
    sendfile: true,
    trusted_peers: [],
    plugins: [],
    log_level: 'debug',
    max_store: 50 * 1024 ** 3,
    npm_upstream: init.npmUpstream.endsWith('/') ? init.npmUpstream : `${init.npmUpstream}/`,
    ...init.settings
  }, { log: createLogger('debug', sink), now: () => Date.now() + offset, activityIntervalMs: init.activityIntervalMs })
  return {
    node,
    url: node.url,
    dataDir,
    logs,
    advance: (ms) => { offset += ms },
    stop: () => node.stop(),
    async destroy () {
      await node.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}
