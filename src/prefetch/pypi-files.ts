import { gatewayPath } from './gateway-path.ts'
import { sameVersion } from './pep440-version.ts'
import { normalizeProject, type PinnedRequirement } from './pip-requirements.ts'
import type { Session } from './session.ts'

const JSON_PAGE = 'application/vnd.pypi.simple.v1+json'
const SDIST = /\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$/i

interface PageFile { filename: string, hashes?: Record<string, string>, 'core-metadata'?: unknown }

/**
 * Each project's simple page (PEP 691 JSON) through the node, once for all its
 * pins; then for each pin the files of that version — the ones its `--hash=`es
 * name, else all of them — and the PEP 658 `.metadata` beside each that has
 * one, as pip reads it first.
 */
export async function prefetchPypi (pins: PinnedRequirement[], session: Session): Promise<void> {
  const byProject = Map.groupBy(pins, (pin) => pin.project)
  await Promise.all([...byProject].map(async ([project, pinsOf]) => { await prefetchProject(project, pinsOf, session) }))
}

async function prefetchProject (project: string, pins: PinnedRequirement[], session: Session): Promise<void> {
  const page = gatewayPath('/pypi', ['simple', project, ''])
  const bytes = await session.read(page, pins.map((p) => `${p.project}==${p.version}`).join(', '), { accept: JSON_PAGE })
  if (bytes === undefined) return
  let files: PageFile[]
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { files?: unknown }
    if (!Array.isArray(json.files)) throw new Error('no files')
    // a file name is one path segment; anything else on a page is not a file to fetch
    files = json.files.filter((f): f is PageFile => typeof f === 'object' && f !== null && typeof f.filename === 'string' && /^[^/\\]+$/.test(f.filename) && f.filename !== '.' && f.filename !== '..')
  } catch {
    session.fail({ label: project, path: page, error: 'the node sent a simple page that is not PEP 691 JSON' })
    return
  }
  await Promise.all(pins.map(async (pin) => { await prefetchPin(pin, page, files, session) }))
}

async function prefetchPin (pin: PinnedRequirement, page: string, files: PageFile[], session: Session): Promise<void> {
  const label = `${pin.project}==${pin.version}`
  const chosen = pin.hashes.length > 0
    ? files.filter((f) => pin.hashes.some((h) => { const [algorithm, hex] = h.split(':'); return f.hashes?.[algorithm!]?.toLowerCase() === hex }))
    : files.filter((f) => { const version = versionOf(f.filename, pin.project); return version !== undefined && sameVersion(version, pin.version) })
  if (chosen.length === 0) {
    const error = pin.hashes.length > 0
      ? `no file on the page has the hashes given (${pin.hashes.length})`
      : `no files of version ${pin.version} on the page (it lists ${files.length} files)`
    session.fail({ label, path: page, error })
    return
  }
  await Promise.all(chosen.flatMap((file) => {
    const path = gatewayPath('/pypi', ['files', pin.project, file.filename])
    const warms = [session.warm(path, `${label} ${file.filename}`)]
    if (file['core-metadata'] !== undefined && file['core-metadata'] !== false) warms.push(session.warm(`${path}.metadata`, `${label} ${file.filename}.metadata`))
    return warms
  }))
}

/** The version in a wheel's or an sdist's filename (`neo_util-1.0.0-py3-none-any.whl`, `neo-util-1.0.0.tar.gz`). */
export function versionOf (filename: string, project: string): string | undefined {
  if (filename.endsWith('.whl')) {
    const [name, version] = filename.slice(0, -'.whl'.length).split('-')
    return name !== undefined && normalizeProject(name) === project ? version : undefined
  }
  const stem = filename.replace(SDIST, '')
  if (stem === filename) return undefined
  // the name may hold dashes itself: the version follows the dash after which the rest is the project
  for (let at = stem.indexOf('-'); at !== -1; at = stem.indexOf('-', at + 1)) {
    if (normalizeProject(stem.slice(0, at)) === project) return stem.slice(at + 1)
  }
  return undefined
}
