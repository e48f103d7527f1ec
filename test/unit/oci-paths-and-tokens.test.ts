import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseOciPath } from '../../formats/oci/reference.ts'
import { createBearerTokens, parseBearerChallenge } from '../../src/pull/bearer-auth.ts'

const REGISTRIES = new Set(['docker.io', 'ghcr.io', 'localhost:5000'])
const parse = (path: string, ns: string | null = null): unknown => parseOciPath(path.split('/').slice(1), ns, REGISTRIES)
const HEX = 'a'.repeat(64)

describe('OCI paths', () => {
  it('reads Docker Hub names, adding library/ to one-segment ones', () => {
    assert.deepEqual(parse('/alpine/manifests/3.20'), { registry: 'docker.io', repository: 'library/alpine', kind: 'manifests', reference: '3.20' })
    assert.deepEqual(parse('/docker.io/alpine/manifests/3.20'), { registry: 'docker.io', repository: 'library/alpine', kind: 'manifests', reference: '3.20' })
    assert.deepEqual(parse('/bitnami/redis/manifests/7'), { registry: 'docker.io', repository: 'bitnami/redis', kind: 'manifests', reference: '7' })
  })

  it('takes the registry from a first segment that is a host, or from ?ns=', () => {
    assert.deepEqual(parse('/ghcr.io/owner/tool/blobs/sha256:' + HEX), { registry: 'ghcr.io', repository: 'owner/tool', kind: 'blobs', reference: `sha256:${HEX}`, digest: { algorithm: 'sha256', hex: HEX } })
    assert.deepEqual(parse('/localhost:5000/app/manifests/v1'), { registry: 'localhost:5000', repository: 'app', kind: 'manifests', reference: 'v1' })
    assert.deepEqual(parse('/owner/tool/manifests/v1', 'ghcr.io'), { registry: 'ghcr.io', repository: 'owner/tool', kind: 'manifests', reference: 'v1' })
    // with ?ns= the first segment is part of the name, not a registry
    assert.deepEqual(parse('/ghcr.io/tool/manifests/v1', 'ghcr.io'), { registry: 'ghcr.io', repository: 'ghcr.io/tool', kind: 'manifests', reference: 'v1' })
  })

  it('refuses registries it does not mirror and names the distribution spec forbids', () => {
    assert.equal(parse('/quay.io/x/y/manifests/1'), 'NAME_UNKNOWN')
    assert.equal(parse('/x/manifests/1', 'evil.example'), 'NAME_UNKNOWN')
    assert.equal(parse('/Alpine/manifests/1'), 'NAME_INVALID')
    assert.equal(parse('/a/../b/manifests/1'), 'NAME_INVALID')
    assert.equal(parse('/alpine/blobs/latest'), 'DIGEST_INVALID')
    assert.equal(parse('/alpine/manifests/sha256:short'), 'DIGEST_INVALID')
    assert.equal(parse('/alpine/manifests/-tag'), 'TAG_INVALID')
    assert.equal(parse('/alpine/tags/list'), 'UNSUPPORTED')
  })
})

describe('bearer tokens', () => {
  it('reads a registry\'s challenge', () => {
    assert.deepEqual(parseBearerChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:library/alpine:pull"'),
      { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:library/alpine:pull' })
    assert.equal(parseBearerChallenge('Basic realm="x"'), undefined)
    assert.equal(parseBearerChallenge('Bearer service="x"'), undefined)
    assert.equal(parseBearerChallenge(null), undefined)
  })

  it('fetches one token for concurrent requests, reuses it until it expires, and sends credentials as Basic', async () => {
    let clock = 0
    const asked: Array<{ url: string, authorization?: string }> = []
    const fetchToken = (async (url: URL, init: { headers: Record<string, string> }) => {
      asked.push({ url: url.href, authorization: init.headers.authorization })
      return Response.json({ token: `t${asked.length}`, expires_in: 60 })
    }) as unknown as typeof fetch
    const tokens = createBearerTokens({ fetch: fetchToken, now: () => clock })
    const challenge = { realm: 'http://auth.test/token', service: 'reg', scope: 'repository:a:pull' }
    const signal = new AbortController().signal
    const credentials = { username: 'bot', password: 'pw' }
    assert.deepEqual(await Promise.all([1, 2, 3].map(async () => await tokens.token(challenge, credentials, signal))), ['t1', 't1', 't1'])
    assert.equal(asked.length, 1)
    assert.equal(asked[0]!.url, 'http://auth.test/token?service=reg&scope=repository%3Aa%3Apull')
    assert.equal(asked[0]!.authorization, `Basic ${Buffer.from('bot:pw').toString('base64')}`)
    clock = 50_000
    assert.equal(await tokens.token(challenge, credentials, signal), 't1')
    clock = 56_000 // within the renewal margin of its 60 s
    assert.equal(await tokens.token(challenge, credentials, signal), 't2')
  })
})
