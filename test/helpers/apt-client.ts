import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runCommand, type CommandResult } from './run-command.ts'

export interface AptSource { uri: string, suites: string, components: string, signedBy: string }
export type AptResult = CommandResult

/**
 * The real `apt-get` with a throwaway state, cache and source list of its own
 * (an `APT_CONFIG` file: apt reads `-o` options only after `apt.conf.d`), so the
 * host's apt is untouched. Signatures are checked as usual (`Signed-By`).
 */
export interface AptClient {
  update(): Promise<AptResult>
  /** `apt-get download` into a fresh directory; the names of the files it wrote. */
  download(packages: string[]): Promise<AptResult & { dir: string, files: string[] }>
  remove(): Promise<void>
}

export async function createAptClient (sources: AptSource[], options: { proxy?: string, noCache?: boolean } = {}): Promise<AptClient> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-apt-client-'))
  for (const sub of ['state/lists/partial', 'cache/archives/partial', 'sources', 'preferences']) await mkdir(join(dir, sub), { recursive: true })
  await writeFile(join(dir, 'sources', 'test.sources'), sources.map((s) =>
    `Types: deb\nURIs: ${s.uri}\nSuites: ${s.suites}\nComponents: ${s.components}\nSigned-By: ${s.signedBy}\n`).join('\n'))
  const config = join(dir, 'apt.conf')
  await writeFile(config, [
    `Dir::State "${dir}/state";`,
    `Dir::Cache "${dir}/cache";`,
    'Dir::Etc::SourceList "/dev/null";',
    `Dir::Etc::SourceParts "${dir}/sources";`,
    'Dir::Etc::Preferences "/dev/null";',
    `Dir::Etc::PreferencesParts "${dir}/preferences";`,
    'APT::Architectures { "amd64"; };',
    'Acquire::Languages "none";',
    // no files owned by _apt in a temp dir
    'APT::Sandbox::User "root";',
    // apt's own retries would hide what the node answered
    'Acquire::Retries "0";',
    options.proxy !== undefined ? `Acquire::http::Proxy "${options.proxy}";` : 'Acquire::http::Proxy "DIRECT";',
    // `Cache-Control: no-cache`: caches on the way revalidate what they hold
    `Acquire::http::No-Cache "${options.noCache === true}";`,
    ''
  ].join('\n'))

  let downloads = 0
  const apt = async (args: string[], cwd = dir): Promise<AptResult> => {
    const result = await runCommand('apt-get', ['-q', ...args], { cwd, env: { ...process.env, APT_CONFIG: config, DEBIAN_FRONTEND: 'noninteractive' } })
    // apt-get update exits 0 even when an index failed; its warnings say so
    return { ...result, ok: result.ok && !/^(W|E): /m.test(result.stderr) }
  }
  return {
    update: async () => await apt(['update']),
    async download (packages) {
      const into = join(dir, `download-${downloads++}`)
      await mkdir(into)
      const result = await apt(['download', ...packages], into)
      return { ...result, dir: into, files: (await readdir(into)).sort() }
    },
    remove: async () => { await rm(dir, { recursive: true, force: true }) }
  }
}

/**
 * The Debian mirror this host's apt uses, as apt itself reads the host's sources:
 * the archive (a URI ending in `/debian/`) and its release suite (`bookworm`, not
 * `bookworm-updates`).
 */
export async function hostDebianMirror (): Promise<{ uri: string, suite: string } | undefined> {
  const { stdout } = await promisify(execFile)('apt-get', ['indextargets', '--format', '$(REPO_URI) $(RELEASE)', 'Created-By: Packages'])
  const targets = stdout.split('\n').map((line) => line.trim().split(' ')).filter(([uri, suite]) => uri?.endsWith('/debian/') === true && suite !== undefined)
  const [uri, suite] = targets.sort((a, b) => a[1]!.length - b[1]!.length)[0] ?? []
  return uri === undefined ? undefined : { uri, suite: suite! }
}
