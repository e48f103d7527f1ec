import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDdsPlugin } from '../../../formats/dds/index.ts'
import type { FormatAdapter, FormatRequest, MetadataTarget } from '../../../formats/index.ts'
import { PLUGIN_API } from '../../../src/plugins/load-plugins.ts'
import * as v from 'valibot'

const request = (path: string): FormatRequest => ({ method: 'GET', path, query: new URLSearchParams(), headers: new Headers() })

function mount (repositories: Array<{ name: string, url: string }>, env = 'acme=http://127.0.0.1:9/acme'): FormatAdapter {
  const plugin = createDdsPlugin({ repositories: () => repositories })(PLUGIN_API)
  const [m] = plugin.mounts(v.parse(plugin.settings, { upstreams: env }))
  return m!.adapter
}

describe('the dds adapter', () => {
  it('serves configured repositories and those the run-time hook names, a configured name first', () => {
    const added = [{ name: 'later', url: 'http://127.0.0.1:9/later' }, { name: 'acme', url: 'http://127.0.0.1:9/other/' }]
    const adapter = mount(added)
    assert.equal((adapter.parse(request('/acme/repo.db.gz'), 'dds:') as MetadataTarget).upstreamUrl, 'http://127.0.0.1:9/acme/repo.db.gz')
    assert.equal((adapter.parse(request('/later/repo.db.gz'), 'dds:') as MetadataTarget).upstreamUrl, 'http://127.0.0.1:9/later/repo.db.gz')
    assert.throws(() => adapter.parse(request('/gone/repo.db.gz'), 'dds:'), /no dds repository "gone"/)
    added.push({ name: 'gone', url: 'http://127.0.0.1:9/gone/' })
    assert.equal((adapter.parse(request('/gone/repo.db.gz'), 'dds:') as MetadataTarget).key, 'dds:gone:repo.db', 'asked on every request')
  })

  it('keys an sdist by repository, name and version, published in the repository\'s repo.db.gz', () => {
    const target = mount([]).parse(request('/acme/pkg/acme-widgets/1.2.3-beta.1/sdist.tar.gz'), 'dds:')
    assert.equal(target.kind, 'artifact')
    assert.equal(target.kind === 'artifact' && target.key, 'dds:acme:pkg:acme-widgets@1.2.3-beta.1')
    assert.equal(target.kind === 'artifact' && target.publishedIn?.key, 'dds:acme:repo.db')
  })

  it('refuses traversal, encoded slashes, bad names and versions, overlong segments', () => {
    const adapter = mount([])
    for (const path of ['/acme/pkg/..%2f..%2fx/1.0.0/sdist.tar.gz', '/acme/pkg/a%2fb/1.0.0/sdist.tar.gz', '/acme/pkg/a/%2e%2e/sdist.tar.gz', '/acme/pkg/a/1.0.0%00/sdist.tar.gz',
      '/%2e%2e/repo.db.gz', '/acme%5c/repo.db.gz', '/ACME/repo.db.gz', '/acme//repo.db.gz', '/acme/pkg/Upper/1.0.0/sdist.tar.gz', '/acme/pkg/a/01/sdist.tar.gz',
      `/${'a'.repeat(65)}/repo.db.gz`, `/acme/pkg/${'a'.repeat(129)}/1.0.0/sdist.tar.gz`, '/acme/%zz']) {
      assert.throws(() => adapter.parse(request(path), 'dds:'), (err: Error & { status?: number }) => err.status === 400, path)
    }
    assert.throws(() => adapter.parse(request('/acme/index.html'), 'dds:'), (err: Error & { status?: number }) => err.status === 404)
    const rendered = adapter.renderError(new PLUGIN_API.errors.BadRequestError('invalid path'), request('/x'))
    assert.deepEqual([rendered.status, rendered.contentType, JSON.parse(rendered.body)], [400, 'application/json', { error: 'invalid path' }])
  })

  it('refuses a repo.db.gz that is not a dds database', () => {
    const adapter = mount([])
    const target = adapter.parse(request('/acme/repo.db.gz'), 'dds:') as MetadataTarget
    assert.throws(() => adapter.parseDocument(new TextEncoder().encode('<html>'), target), /not a dds repository database/)
  })
})
