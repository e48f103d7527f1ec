import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import bytes from 'bytes'
import { chromium, type Browser, type Page } from 'playwright-core'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'
import type { SpawnedNode } from '../helpers/spawn-node.ts'
import { health } from '../helpers/wait-for.ts'
import type { NodeStatus } from '../../src/node/node-status.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url))
const PUBLIC_URL = 'http://dpm-b.example.test:8484/'
const TARBALL = '/npm/leftpad/-/leftpad-1.0.0.tgz'

const size = (n: number): string => bytes.format(n, { unitSeparator: ' ', decimalPlaces: 1 })!

/** Node B of a two-node swarm, after traffic, as a browser shows its dashboard. */
describe('the dashboard in a real browser', () => {
  let swarm: SwarmHarness
  let a: SpawnedNode
  let b: SpawnedNode
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []
  const served: string[] = []

  before(async () => {
    swarm = await startSwarmHarness()
    swarm.upstream.publish('leftpad', { version: '1.0.0', tarball: randomBytes(300_000) })
    a = await swarm.start()
    for (const path of ['/npm/leftpad', TARBALL]) assert.equal((await fetch(`${a.url}${path}`).then(async (r) => { await r.arrayBuffer(); return r })).status, 200)
    b = await swarm.start({ DPM_BOOTSTRAP: await addressOf(a), DPM_PUBLIC_URL: PUBLIC_URL, DPM_MAX_STORE: '2GB' })
    await pulledIndex(b, 2)
    // B: the packument from the upstream, the tarball from A, then from its own store
    for (const path of ['/npm/leftpad', TARBALL, TARBALL, TARBALL]) {
      const res = await fetch(`${b.url}${path}`)
      await res.arrayBuffer()
      assert.equal(res.status, 200, path)
      served.push(res.headers.get('x-cache') ?? 'none')
    }
    assert.deepEqual(served.slice(1), ['PEER', 'HIT', 'HIT'], 'the tarball came from the peer, then from B\'s store')

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: b.url })
    page = await context.newPage()
    // a CSP violation or a script error shows up here
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()) })
    page.on('pageerror', (err) => { pageErrors.push(err.message) })
  })
  after(async () => {
    await browser?.close()
    await swarm?.close()
  })

  it('shows identity, peers, store usage, hit ratios, recent fetches, search and client snippets', async () => {
    const status = await (await fetch(`${b.url}/-/api/status`)).json() as NodeStatus
    const response = await page.goto(`${b.url}/`)
    assert.equal(response?.status(), 200)

    assert.equal(await page.getByTestId('peer-id').textContent(), (await health(b.url)).peerId)
    assert.equal(await page.getByTestId('public-url').textContent(), PUBLIC_URL)
    assert.equal(await page.getByTestId('swarm').textContent(), 'on, 1 peer connected')
    assert.match(await page.getByTestId('peers').textContent() ?? '', new RegExp((await health(a.url)).peerId))

    const usage = await page.getByTestId('store-usage').textContent() ?? ''
    assert.ok(status.store.usedBytes >= 300_000, 'B stored the tarball')
    assert.ok(usage.startsWith(`${size(status.store.usedBytes)} of 2 GB (`), usage)
    assert.match(usage, /, 0 pinned$/)

    const misses = served.filter((s) => s === 'MISS').length
    const total = served.length
    assert.equal(await page.getByTestId('npm-HIT').textContent(), '2')
    assert.equal(await page.getByTestId('npm-PEER').textContent(), '1')
    assert.equal(await page.getByTestId('npm-MISS').textContent(), String(misses))
    assert.equal(await page.getByTestId('hit-ratio-npm').textContent(), `${(200 / total).toFixed(1)}%`)
    assert.equal(await page.getByTestId('peer-ratio-npm').textContent(), `${(100 / total).toFixed(1)}%`)
    assert.ok(await page.getByTestId('chart-npm').getByTestId('chart-bar').count() >= 1, 'the chart has a bar for the traffic')

    const rows = page.getByTestId('fetch')
    assert.equal(await rows.count(), total)
    assert.deepEqual(await page.getByTestId('fetch-cache').allTextContents(), [...served].reverse())
    assert.match(await rows.first().textContent() ?? '', /npm\s*GET.*leftpad-1\.0\.0\.tgz\s*200\s*HIT/)

    const npm = page.getByTestId('snippet-npm-0')
    assert.equal(await npm.textContent(), `npm config set registry ${PUBLIC_URL}npm/`)
    await page.locator('button[data-copy="snippet-npm-0"]').click()
    await page.getByText('Copied').waitFor()
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), `npm config set registry ${PUBLIC_URL}npm/`)

    await page.locator('input[name="q"]').fill('LEFTPAD*.tgz')
    await Promise.all([page.waitForURL(/\?q=LEFTPAD/), page.getByRole('button', { name: 'Search' }).click()])
    const results = page.getByTestId('search-result')
    assert.equal(await results.count(), 1)
    assert.match(await results.first().textContent() ?? '', /npm:tarball:leftpad\/-\/leftpad-1\.0\.0\.tgz/)
    assert.equal(await page.locator('input[name="q"]').inputValue(), 'LEFTPAD*.tgz')

    await mkdir(RESULTS, { recursive: true })
    const shot = `${RESULTS}dashboard.png`
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`dashboard screenshot: ${shot}`)

    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations')
  })

  it('shows why a search was refused', async () => {
    const response = await page.goto(`${b.url}/?q=${encodeURIComponent('[oops')}`)
    assert.equal(response?.status(), 400)
    assert.match(await page.getByTestId('search-error').textContent() ?? '', /not a glob: unclosed "\["/)
    assert.deepEqual(pageErrors.filter((e) => !e.includes('status of 400')), [])
  })
})
