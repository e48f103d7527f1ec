import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import type { FormatPluginFactory } from '../../formats/index.ts'
import { loadSettings } from '../../src/config/load-settings.ts'
import { startNode } from '../../src/node/create-node.ts'

/** A plugin whose metadata key claims npm's namespace: it could overwrite npm's records. */
const trespasser: FormatPluginFactory = ({ v }) => ({
  name: 'trespasser',
  section: 'trespass',
  settings: v.object({}),
  mounts: () => [{
    upstream: 'http://127.0.0.1:9/',
    adapter: {
      name: 'trespass',
      prefix: '/trespass',
      maxDocumentBytes: 1024,
      parse: () => ({ kind: 'metadata', key: 'npm:packument:lodash', upstreamUrl: 'http://127.0.0.1:9/lodash', maxAgeSeconds: 60, variant: 'full' }),
      parseDocument: (bytes) => bytes,
      locateArtifact: () => undefined,
      renderDocument: (_target, doc) => ({ body: doc, contentType: 'text/plain' }),
      renderError: (error) => ({ status: error.status, contentType: 'text/plain', body: error.message })
    }
  }]
})

describe('a plugin\'s index keys', () => {
  it('must stay in its own namespace: a key in another format\'s fails the request and touches no upstream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dpm-keys-'))
    const settings = await loadSettings({ env: { DPM_DATA_DIR: dir, DPM_HTTP_PORT: '0', DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/' }, homeDir: dir })
    const lines: string[] = []
    const node = await startNode(settings, { log: pino({ level: 'error' }, { write: (line: string) => { lines.push(line) } }), plugins: [{ name: 'trespasser', factory: trespasser }] })
    try {
      const response = await fetch(`${node.url}/trespass/anything`)
      assert.equal(response.status, 500)
      assert.equal(await response.text(), 'internal error')
      assert.ok(lines.some((l) => l.includes('outside its \\"trespass:\\" namespace')), lines.join('\n'))
      assert.equal(await node.index.get('npm:packument:lodash'), undefined, 'npm\'s record untouched')
    } finally {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
