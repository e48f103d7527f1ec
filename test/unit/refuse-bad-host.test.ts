import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import aptPlugin from '../../formats/apt/index.ts'
import { npmAdapter } from '../../formats/npm/index.ts'
import { refuseBadHost } from '../../src/gateway/refuse-bad-host.ts'
import { PLUGIN_API } from '../../src/plugins/load-plugins.ts'

const UPSTREAM = 'http://127.0.0.1:4873/'
const mounts = [
  { adapter: npmAdapter, upstream: UPSTREAM },
  aptPlugin(PLUGIN_API).mounts({ upstreams: [{ name: 'test', url: UPSTREAM }] })[0]!
]

/** One raw HTTP exchange, the request written byte for byte: status line, content type, body. */
async function exchange (port: number, request: string): Promise<{ status: number, contentType?: string, body: string }> {
  const socket = connect(port, '127.0.0.1')
  socket.end(request)
  let text = ''
  socket.setEncoding('utf8').on('data', (d: string) => { text += d })
  await once(socket, 'close')
  const [head = '', body = ''] = text.split('\r\n\r\n', 2)
  return { status: Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1]), contentType: /^content-type: (.*)$/im.exec(head)?.[1], body }
}

describe('a request whose Host cannot be read', () => {
  let server: Server
  let port: number
  before(async () => {
    // what the node does before its gateway sees a request: refused here, or passed on
    server = createServer((req, res) => { if (!refuseBadHost(req, res, mounts)) res.end(`passed on as ${req.headers.host}`) })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  after(() => { server.close() })

  // as a URL parser reads each, the form the gateway's own request parser accepts
  const readAs = { 'example.test': 'example.test', 'example.test:8080': 'example.test:8080', '127.0.0.1:1': '127.0.0.1:1', '[::1]:4873': '[::1]:4873', 'EXAMPLE.test': 'example.test', '0:4873': '0.0.0.0:4873', '0:0': '0.0.0.0:0', '127.1': '127.0.0.1' }
  for (const [host, read] of Object.entries(readAs)) {
    it(`passes on a request for ${host} as ${read}`, async () => {
      const answer = await exchange(port, `GET /npm/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      assert.deepEqual([answer.status, answer.body], [200, `passed on as ${read}`])
    })
  }

  it('refuses one without a Host in the shape of the format its path names', async () => {
    const npm = await exchange(port, 'GET /npm/x HTTP/1.0\r\n\r\n')
    assert.equal(npm.status, 400)
    assert.equal(npm.contentType, 'application/json')
    assert.match((JSON.parse(npm.body) as { error: string }).error, /no Host header/)
    const apt = await exchange(port, 'GET /apt/test/dists/x HTTP/1.0\r\n\r\n')
    assert.deepEqual([apt.status, apt.contentType], [400, 'text/plain; charset=utf-8'])
    assert.match(apt.body, /no Host header\n$/)
  })

  it('refuses a Host that names no host, and answers a path outside any format in JSON', async () => {
    // the last four are made of a name's characters, yet no URL parser reads them
    for (const host of ['a b', 'evil.example/x', 'a@b', '[::1', '.0', '1.2.3.4.5', 'a.0', 'example.test:99999']) {
      const answer = await exchange(port, `GET /apt/test/pool/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      assert.deepEqual([answer.status, answer.contentType], [400, 'text/plain; charset=utf-8'], host)
      assert.match(answer.body, /names no host/, host)
    }
    const outside = await exchange(port, 'GET /-/health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n')
    assert.deepEqual([outside.status, outside.contentType], [400, 'application/json'])
  })
})
