import { CliError, connectToNode, type NodeClient } from './node-client.ts'
import { hostArchitecture, type AptSource } from '../prefetch/apt-packages.ts'
import { detectKind, KINDS, type InputKind } from '../prefetch/detect-kind.ts'
import { InputError } from '../prefetch/input-error.ts'
import { parsePlatforms, type Platform } from '../prefetch/oci-images.ts'
import { createProgress } from '../prefetch/progress.ts'
import { readInput, type PrefetchInput } from '../prefetch/read-input.ts'
import { runPrefetch } from '../prefetch/run-prefetch.ts'
import { createSession } from '../prefetch/session.ts'
import { renderSummary, summarize } from '../prefetch/summary.ts'

export const PREFETCH_USAGE = `usage: dpm prefetch [options] FILE...

Warms a running node's cache: fetches through its gateway what each FILE names,
as the package managers would (local → swarm → upstream, verified, stored).

  FILE                     its kind by its name: package-lock.json, npm-shrinkwrap.json (npm);
                           requirements*.txt, with name==version pins (pypi);
                           *.images, images*.txt, one image a line (oci);
                           *.apt, apt*.txt, package names or name=version (apt);
                           - reads stdin (give its --format)
  --format npm|pypi|oci|apt  the kind of the FILEs after it, whatever their names
  --apt NAME SUITE         where apt lists are looked up: the node's /apt/NAME, a suite
  --component C            the apt component (default main)
  --arch A                 the apt architecture (default this machine's)
  --platform OS/ARCH[,…]   only these platforms of a multi-platform image (default all)
  --concurrency N          requests at once (default 8)
  --url URL                the node (default: the DPM_HTTP_HOST/DPM_HTTP_PORT settings)
  --config FILE            a settings file to find the node by
  --json                   the summary as JSON on stdout

Exit status: 0 all fetched, 1 something failed (each failure is listed), 2 bad
usage or an input file that cannot be read or parsed.
`

interface Options {
  files: Array<{ file: string, kind?: InputKind }>
  url?: string
  configFile?: string
  concurrency: number
  platforms?: Platform[]
  apt?: { name: string, suite: string }
  component: string
  architecture: string
  json: boolean
}

class UsageError extends Error {}

/** `dpm prefetch`: parses, reads every input first (bad input is exit 2 before any fetch), then warms the node. */
export async function runPrefetchCommand (args: string[]): Promise<number> {
  let options: Options
  try {
    options = parseOptions(args)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`dpm prefetch: ${err.message}\n\n${PREFETCH_USAGE}`)
    return 2
  }
  if (options.files.length === 0) {
    const help = args.includes('--help') || args.includes('-h')
    ;(help ? process.stdout : process.stderr).write(PREFETCH_USAGE)
    return help ? 0 : 2
  }

  const inputs: PrefetchInput[] = []
  try {
    for (const { file, kind } of options.files) {
      const chosen = kind ?? detectKind(file) ?? (options.apt !== undefined ? 'apt' : undefined)
      if (chosen === undefined) throw new InputError(file, 'cannot tell what kind of list this is by its name: give --format npm|pypi|oci|apt before it')
      if (chosen === 'apt' && options.apt === undefined) throw new InputError(file, 'an apt list needs --apt NAME SUITE (the node\'s /apt/NAME and a suite)')
      inputs.push(await readInput(file, chosen))
    }
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    process.stderr.write(`dpm prefetch: ${err.message}\n`)
    return 2
  }

  let client: NodeClient
  try {
    client = await connectToNode({ url: options.url, configFile: options.configFile })
    const missing = await missingMounts(client, inputs, options.apt?.name)
    if (missing !== undefined) {
      process.stderr.write(`dpm prefetch: ${missing}\n`)
      return 2
    }
  } catch (err) {
    if (!(err instanceof CliError)) throw err
    process.stderr.write(`dpm prefetch: ${err.message}\n`)
    return 1
  }

  const apt: AptSource | undefined = options.apt === undefined ? undefined : { ...options.apt, component: options.component, architecture: options.architecture }
  const progress = createProgress(process.stderr)
  // Ctrl-C: give the terminal its cursor back before leaving
  const interrupted = (): void => { progress.stop(); process.exit(130) }
  process.once('SIGINT', interrupted)
  const session = createSession({ client, concurrency: options.concurrency, progress })
  try {
    await runPrefetch(inputs, { platforms: options.platforms, apt }, session)
  } finally {
    process.off('SIGINT', interrupted)
    progress.stop()
  }
  const summary = summarize(session.items, session.problems, inputs.flatMap((i) => i.skipped))
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary))
  return summary.failed.length > 0 ? 1 : 0
}

function parseOptions (args: string[]): Options {
  const options: Options = { files: [], concurrency: 8, component: 'main', architecture: hostArchitecture(), json: false }
  let kind: InputKind | undefined
  let onlyFiles = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const value = (name: string): string => {
      const next = args[++i]
      if (next === undefined || next === '') throw new UsageError(`${name} needs a value`)
      return next
    }
    if (onlyFiles || !arg.startsWith('-') || arg === '-') {
      options.files.push({ file: arg, kind })
      continue
    }
    switch (arg) {
      case '--': onlyFiles = true; break
      case '-h': case '--help': return { ...options, files: [] }
      case '--url': options.url = value(arg); break
      case '--config': options.configFile = value(arg); break
      case '--json': options.json = true; break
      case '--component': options.component = checked(arg, value(arg), /^[A-Za-z0-9][A-Za-z0-9._/-]*$/); break
      case '--arch': options.architecture = checked(arg, value(arg), /^[a-z0-9][a-z0-9-]*$/); break
      case '--format': {
        const given = value(arg)
        if (!(KINDS as readonly string[]).includes(given)) throw new UsageError(`--format must be one of ${KINDS.join(', ')} (got "${given}")`)
        kind = given as InputKind
        break
      }
      case '--concurrency': {
        const n = Number(value(arg))
        if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--concurrency must be a whole number from 1 to 256 (got "${args[i]}")`)
        options.concurrency = n
        break
      }
      case '--platform': {
        const platforms = parsePlatforms(value(arg))
        if (platforms === undefined) throw new UsageError(`--platform takes OS/ARCH[/VARIANT], comma separated (got "${args[i]}")`)
        options.platforms = platforms
        break
      }
      case '--apt': {
        const name = checked(arg, value('--apt NAME SUITE'), /^[A-Za-z0-9][A-Za-z0-9._-]*$/)
        const suite = checked(arg, value('--apt NAME SUITE'), /^[A-Za-z0-9][A-Za-z0-9._/-]*$/)
        if (suite.split('/').some((s) => s === '' || s === '..' || s === '.')) throw new UsageError(`--apt: not a suite: "${suite}"`)
        options.apt = { name, suite }
        break
      }
      default: throw new UsageError(`unknown option ${arg}`)
    }
  }
  return options
}

function checked (name: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new UsageError(`${name}: not a valid value: "${value}"`)
  return value
}

/** Asks the node's health for the formats it serves; a kind of input it has no mount for is named, with what it has. */
async function missingMounts (client: NodeClient, inputs: PrefetchInput[], aptName: string | undefined): Promise<string | undefined> {
  const health = await client.call<{ formats?: Array<{ name: string, prefix: string }> }>('GET', '/-/health')
  const prefixes = new Set((health.formats ?? []).map((f) => f.prefix.replace(/\/+$/, '')))
  const wanted: Record<InputKind, string> = { npm: '/npm', pypi: '/pypi', oci: '/v2', apt: `/apt/${aptName ?? ''}` }
  for (const kind of new Set(inputs.map((i) => i.kind))) {
    if (prefixes.has(wanted[kind])) continue
    if (kind === 'apt') {
      const names = [...prefixes].filter((p) => p.startsWith('/apt/')).map((p) => p.slice('/apt/'.length))
      return `the node at ${client.url} has no apt repository named "${aptName}" (it has ${names.length === 0 ? 'none' : names.join(', ')}; see DPM_APT_UPSTREAMS)`
    }
    return `the node at ${client.url} does not serve ${kind} (${wanted[kind]})`
  }
  return undefined
}
