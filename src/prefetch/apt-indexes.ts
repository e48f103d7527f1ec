import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { xz } from '@napi-rs/lzma'
import { parseRelease } from '../../formats/apt/release-file.ts'
import { compareDebianVersions } from './debian-version.ts'
import { gatewayPath } from './gateway-path.ts'
import type { AptSource, AptWanted } from './apt-packages.ts'
import type { Session } from './session.ts'

/** Debian's largest index, main's `Packages.xz`, is ~9 MB. */
const MAX_INDEX = 256 * 1024 * 1024
/** apt's own preference among the forms a suite publishes. */
const FORMS = ['Packages.xz', 'Packages.gz', 'Packages']

interface Listed { version: string, filename: string }

/**
 * As `apt-get update` then `apt-get download` would: the suite's `InRelease`,
 * the component's `Packages` index it lists (by hash when the suite says
 * `Acquire-By-Hash`, as apt asks), then each wanted package's pool file — at the
 * version asked for, else the newest listed.
 */
export async function prefetchApt (source: AptSource, asked: AptWanted[], session: Session): Promise<void> {
  // two lists may name one package: it is looked up once
  const wanted = [...new Map(asked.map((w) => [`${w.name}=${w.version ?? ''}`, w])).values()]
  const mount = `/apt/${source.name}`
  const suite = source.suite.split('/')
  const label = `${source.name} ${source.suite}`
  const releasePath = gatewayPath(mount, ['dists', ...suite, 'InRelease'])
  const failAll = (path: string | undefined, error: string): void => {
    for (const w of wanted) session.fail({ label: `${label} ${w.name}`, path, error })
  }
  const releaseBytes = await session.read(releasePath, `${label} InRelease`, { maxBytes: 16 * 1024 * 1024 })
  if (releaseBytes === undefined) return // a failed item already, naming the suite
  const release = parseRelease(releaseBytes)
  const directory = `${source.component}/binary-${source.architecture}`
  const entry = FORMS.map((form) => release.entries.get(`${directory}/${form}`)).find((e) => e !== undefined)
  if (entry === undefined) { failAll(releasePath, `InRelease lists no ${directory}/Packages index`); return }
  const byHash = /^Acquire-By-Hash:\s*yes\s*$/im.test(new TextDecoder().decode(releaseBytes))
  const indexPath = byHash
    ? gatewayPath(mount, ['dists', ...suite, ...directory.split('/'), 'by-hash', 'SHA256', entry.sha256])
    : gatewayPath(mount, ['dists', ...suite, ...entry.path.split('/')])
  const indexBytes = await session.read(indexPath, `${label} ${entry.path}`, { maxBytes: MAX_INDEX })
  if (indexBytes === undefined) return

  let listed: Map<string, Listed[]>
  try {
    listed = packagesOf(await decompress(indexBytes, entry.path))
  } catch (err) {
    failAll(indexPath, `the index does not decompress: ${(err as Error).message}`)
    return
  }
  await Promise.all(wanted.map(async (w) => {
    const what = w.version === undefined ? w.name : `${w.name}=${w.version}`
    const versions = listed.get(w.name) ?? []
    const chosen = w.version === undefined
      ? versions.sort((x, y) => compareDebianVersions(y.version, x.version))[0]
      : versions.find((v) => v.version === w.version)
    if (chosen === undefined) {
      const others = versions.map((v) => v.version).join(', ')
      session.fail({ label: `${label} ${what}`, path: indexPath, error: `not in ${source.suite} ${directory}${others === '' ? '' : ` (it has ${others})`}` })
      return
    }
    await session.warm(gatewayPath(mount, chosen.filename.split('/')), `${label} ${w.name}=${chosen.version}`)
  }))
}

async function decompress (bytes: Uint8Array, path: string): Promise<string> {
  if (path.endsWith('.xz')) return (await xz.decompress(Buffer.from(bytes))).toString('utf8')
  if (path.endsWith('.gz')) return (await promisify(gunzip)(bytes)).toString('utf8')
  return new TextDecoder().decode(bytes)
}

/** Package name → its versions and pool paths, from the stanzas of a `Packages` index. */
function packagesOf (text: string): Map<string, Listed[]> {
  const packages = new Map<string, Listed[]>()
  for (const stanza of text.split(/\r?\n\r?\n/)) {
    const name = /^Package:[ \t]*(\S+)/im.exec(stanza)?.[1]
    const version = /^Version:[ \t]*(\S+)/im.exec(stanza)?.[1]
    const filename = /^Filename:[ \t]*(\S+)/im.exec(stanza)?.[1]
    // a pool path that stays in the repository; the node judges it again
    if (name === undefined || version === undefined || filename === undefined || filename.split('/').some((s) => s === '' || s === '.' || s === '..')) continue
    packages.set(name, [...(packages.get(name) ?? []), { version, filename }])
  }
  return packages
}
