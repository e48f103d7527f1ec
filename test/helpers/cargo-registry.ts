import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { indexPath } from '../../formats/cargo/index-path.ts'

export interface LocalCrate {
  name: string
  version: string
  /** Other local crates this one depends on, by name (any version of theirs). */
  deps?: string[]
  /** The crate's `src/lib.rs`. */
  lib: string
}

/**
 * A sparse Cargo registry on loopback, as crates.io is laid out: the index
 * (`config.json` and index files, with ETags) on one server, the `.crate` files
 * on another host, as `dl` says. The crates are real: `cargo package` builds
 * them from a local workspace. `mode: 'down'` resets every connection to both.
 */
export interface CargoRegistry {
  /** The index URL, for `DPM_CARGO_UPSTREAMS` after `sparse+`. */
  url: string
  mode: 'up' | 'down'
  /** Request paths that reached either server. */
  requests: string[]
  /** Makes a crate's file other bytes than the index's checksum says. */
  corrupt(name: string, version: string): void
  close(): Promise<void>
}

export async function startCargoRegistry (crates: LocalCrate[]): Promise<CargoRegistry> {
  const work = await mkdtemp(join(tmpdir(), 'dpm-cargo-registry-'))
  const files = new Map<string, Buffer>()
  const index = new Map<string, string>()
  try {
    await writeFile(join(work, 'Cargo.toml'), `[workspace]\nmembers = [${crates.map((c) => JSON.stringify(c.name)).join(', ')}]\nresolver = "2"\n`)
    for (const crate of crates) {
      await mkdir(join(work, crate.name, 'src'), { recursive: true })
      const deps = (crate.deps ?? []).map((d) => `${d} = { path = "../${d}", version = "${crates.find((c) => c.name === d)!.version}" }`)
      await writeFile(join(work, crate.name, 'Cargo.toml'), `[package]\nname = "${crate.name}"\nversion = "${crate.version}"\nedition = "2021"\ndescription = "a crate made for a test"\nlicense = "MIT"\n\n[dependencies]\n${deps.join('\n')}\n`)
      await writeFile(join(work, crate.name, 'src', 'lib.rs'), crate.lib)
    }
    await promisify(execFile)('cargo', ['package', '--workspace', '--no-verify', '--offline', '--quiet'], { cwd: work, env: { ...process.env, CARGO_HOME: join(work, '.cargo-home') } })
    for (const crate of crates) {
      const bytes = await readFile(join(work, 'target', 'package', `${crate.name}-${crate.version}.crate`))
      files.set(`/crates/${crate.name}/${crate.name}-${crate.version}.crate`, bytes)
      const deps = (crate.deps ?? []).map((d) => ({ name: d, req: `^${crates.find((c) => c.name === d)!.version}`, features: [], optional: false, default_features: true, target: null, kind: 'normal' }))
      const line = JSON.stringify({ name: crate.name, vers: crate.version, deps, cksum: createHash('sha256').update(bytes).digest('hex'), features: {}, yanked: false })
      const path = `/${indexPath(crate.name)}`
      index.set(path, `${index.get(path) ?? ''}${line}\n`)
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }

  const registry: CargoRegistry = {
    url: '',
    mode: 'up',
    requests: [],
    corrupt (name, version) {
      const path = `/crates/${name}/${name}-${version}.crate`
      const bytes = Buffer.from(files.get(path)!)
      bytes[bytes.length - 1]! ^= 0xff
      files.set(path, bytes)
    },
    async close () { await Promise.all([stop(indexServer), stop(fileServer)]) }
  }
  const serve = (answer: (path: string, req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) => {
    registry.requests.push(req.url ?? '')
    if (registry.mode === 'down') { req.socket.destroy(); return }
    answer(new URL(req.url ?? '/', 'http://x').pathname, req, res)
  }
  const fileServer = createServer(serve((path, _req, res) => {
    const bytes = files.get(path)
    res.writeHead(bytes === undefined ? 404 : 200, { 'content-type': 'application/gzip' }).end(bytes)
  }))
  const indexServer = createServer(serve((path, req, res) => {
    const body = path === '/config.json' ? JSON.stringify({ dl: `${listening(fileServer)}/crates/{crate}/{crate}-{version}.crate` }) : index.get(path)
    if (body === undefined) { res.writeHead(404).end(); return }
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`
    if (req.headers['if-none-match'] === etag) { res.writeHead(304, { etag }).end(); return }
    res.writeHead(200, { 'content-type': path === '/config.json' ? 'application/json' : 'text/plain', etag }).end(body)
  }))
  await Promise.all([indexServer, fileServer].map(async (s) => { await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve)) }))
  registry.url = `${listening(indexServer)}/`
  return registry
}

function listening (server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function stop (server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => { resolve() }))
  server.closeAllConnections()
  await closed
}
