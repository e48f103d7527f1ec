import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create } from 'tar'
import type { FakeNpmRegistry } from './fake-npm-registry.ts'

/** A real npm tarball: `package/package.json` and an index.js, gzipped tar as `npm pack` makes. */
export async function packTarball (name: string, version: string, dependencies: Record<string, string>): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-pack-'))
  try {
    await mkdir(join(dir, 'package'))
    await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name, version, main: 'index.js', dependencies }, null, 2))
    await writeFile(join(dir, 'package', 'index.js'), `module.exports = ${JSON.stringify(`${name}@${version}`)}\n`)
    const chunks: Buffer[] = []
    for await (const chunk of create({ gzip: true, cwd: dir, portable: true }, ['package'])) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Publishes `count` real packages into a fake registry, each depending on the
 * next two, so installing the first pulls in all of them. Returns the names.
 */
export async function publishPackageSet (registry: FakeNpmRegistry, prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
  for (const [i, name] of names.entries()) {
    const dependencies = Object.fromEntries(names.slice(i + 1, i + 3).map((dep) => [dep, '^1.0.0']))
    registry.publish(name, { version: '1.0.0', tarball: await packTarball(name, '1.0.0', dependencies), manifest: { dependencies } })
  }
  return names
}
