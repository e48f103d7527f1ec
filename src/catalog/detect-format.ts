import { BadRequestError } from '../errors.ts'
import type { UpstreamClient, UpstreamResponse } from '../pull/upstream-client.ts'
import type { RepositoryFormat } from './repository.ts'

export interface DetectInit {
  /** As the user gave it: a dds `…/repo.db.gz` says what it is. */
  given: string
  root: URL
  /** apt suites given with the URL, as a `deb` line names them. */
  suites: string[]
  /** The node's npm upstream: the one npm registry it can list (what it cached from there). */
  npmUpstream?: string
  upstream: Pick<UpstreamClient, 'fetch'>
  signal: AbortSignal
}

/**
 * The format of a repository added without `--format`: from the URL where it
 * says (`repo.db.gz`, `/simple/`, suites as in a `deb` line, the node's npm
 * upstream), else by asking it — a dds repository serves `repo.db.gz`, a
 * PEP 691 index answers JSON of its own type. Else a 400 asking for `--format`.
 */
export async function detectFormat (init: DetectInit): Promise<RepositoryFormat> {
  const { root } = init
  if (/\/repo\.db\.gz$/.test(new URL(init.given).pathname)) return 'dds'
  if (init.suites.length > 0) return 'apt'
  if (init.npmUpstream !== undefined && root.href === init.npmUpstream) return 'npm'
  if (/\/simple\/$/.test(root.pathname)) return 'pypi'

  // GETs whose bodies are dropped unread: the upstream client speaks GET only
  const probe = async (url: string, headers: Record<string, string> = {}): Promise<UpstreamResponse> => {
    const response = await init.upstream.fetch(url, { headers, signal: init.signal })
    await response.body.cancel()
    return response
  }
  if ((await probe(`${root.href}repo.db.gz`)).ok) return 'dds'
  const page = await probe(root.href, { accept: 'application/vnd.pypi.simple.v1+json' })
  if (page.ok && (page.headers.get('content-type') ?? '').includes('application/vnd.pypi.simple')) return 'pypi'
  if ((await probe(`${root.href}dists/`)).ok) throw new BadRequestError(`${root.href} looks like an apt repository: name a suite (URL SUITE [COMPONENT...]), as a deb line does`)
  throw new BadRequestError(`cannot tell what kind of repository ${root.href} is: give --format (dds, apt, pypi or npm)`)
}
