import { runGc } from './gc.ts'
import { runPin, runUnpin } from './pin.ts'
import { runPkg } from './pkg.ts'
import { runPrefetchCommand } from './prefetch.ts'
import { runRepo } from './repo.ts'
import { runStatus } from './status.ts'
import { runSwarmKey } from './swarm-key.ts'

const USAGE = `usage: dpm <command>

  start [--config FILE]    run a node (settings: DPM_* environment variables or a YAML file)
  swarm-key generate       print a new swarm key (kubo swarm.key format)
  prefetch [options] FILE...
                           warm a running node's cache from a lockfile or list (prefetch --help)
  status [--url URL] [--json]
                           a running node's identity, peers, store usage, hit ratios and recent fetches
  pin [PATH...]            fetch and pin gateway paths so they are never evicted (no PATH: list the pins)
  unpin PATH...            let pinned paths be evicted again
  gc [--url URL] [--json]  enforce the store's size limit now (DPM_MAX_STORE)
  repo add URL [--format F] [--name N] [--no-update], repo ls, repo remove NAME, repo update
                           manage the upstream repositories of a running node's package catalog (repo --help)
  pkg search [GLOB]        search the catalog's packages by a case-insensitive glob (default *)
  repoman init|ls|import|add|remove DIR ...
                           manage a static dds repository directory (repoman --help)
  mount DIR [--url URL]    a read-only FUSE view of a running node's cache at DIR, until Ctrl-C
  umount DIR               unmount it (also a mount a crashed node left)
`

const commands: Record<string, (args: string[]) => Promise<number>> = {
  // loaded when run: the node's modules (Helia, libp2p) take a second to load, which the client commands need not wait for
  start: async (args) => await (await import('./start.ts')).runStart(args),
  status: runStatus,
  pin: runPin,
  unpin: runUnpin,
  gc: runGc,
  repo: runRepo,
  pkg: runPkg,
  'swarm-key': runSwarmKey,
  prefetch: runPrefetchCommand,
  // loaded when run: SQLite, tar and JSON5 are for this command alone
  repoman: async (args) => await (await import('./repoman.ts')).runRepoman(args),
  // loaded when run: the FUSE binding is for these commands alone
  mount: async (args) => await (await import('./mount.ts')).runMount(args),
  umount: async (args) => await (await import('./mount.ts')).runUmount(args)
}

const [name, ...args] = process.argv.slice(2)
const command = name === undefined ? undefined : commands[name]
if (command === undefined) {
  process.stderr.write(name === undefined || name === 'help' || name === '--help' ? USAGE : `dpm: unknown command "${name}"\n\n${USAGE}`)
  process.exitCode = name === undefined || name === 'help' || name === '--help' ? 0 : 2
} else {
  process.exitCode = await command(args)
}
