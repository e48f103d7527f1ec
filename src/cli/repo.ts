import type { RepositoryInfo, UpdateResult } from '../catalog/catalog.ts'
import { runClientCommand, UsageError } from './client-command.ts'
import type { NodeClient } from './node-client.ts'

const USAGE = `usage: dpm repo <add|ls|remove|update> [--url NODE] [--json]

  add URL [SUITE [COMPONENT...]] [--format dds|apt|pypi|npm] [--name N] [--no-update]
          [--suite S]... [--component C]... [--arch A]...
                  register an upstream repository and pull its listing into the catalog
  ls              the registered repositories
  remove NAME     drop one: its listings leave the catalog, cached packages stay available
  update [NAME...]
                  re-pull every listing (or those named); an unchanged upstream is skipped`

const OPTIONS = {
  json: { type: 'boolean' },
  format: { type: 'string' },
  name: { type: 'string' },
  'no-update': { type: 'boolean' },
  suite: { type: 'string', multiple: true },
  component: { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' }
} as const

/** `dpm repo add|ls|remove|update`: the node's catalog of repositories, through its admin API (`/-/api/repos`). */
export async function runRepo (args: string[]): Promise<number> {
  return await runClientCommand('repo', args, OPTIONS, async (node, values, positionals) => {
    const [sub, ...rest] = positionals
    if (values.help === true) { process.stdout.write(`${USAGE}\n`); return 0 }
    const json = values.json === true
    if (sub !== 'add') {
      for (const flag of ['format', 'name', 'no-update', 'suite', 'component', 'arch']) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} is an option of \`repo add\``)
      }
    }
    switch (sub) {
      case 'add': return await add(node, values, rest, json)
      case 'ls': case 'list':
        if (rest.length > 0) throw new UsageError('repo ls takes no arguments')
        return await list(node, json)
      case 'remove': case 'rm':
        if (rest.length !== 1) throw new UsageError('name one repository to remove: dpm repo remove NAME')
        return await remove(node, rest[0]!, json)
      case 'update': return await update(node, rest, json)
      case undefined: throw new UsageError(`name a subcommand\n${USAGE}`)
      default: throw new UsageError(`unknown subcommand "${sub}"\n${USAGE}`)
    }
  })
}

async function add (node: NodeClient, values: Record<string, unknown>, rest: string[], json: boolean): Promise<number> {
  const [url, suite, ...components] = rest
  if (url === undefined) throw new UsageError('name the repository\'s URL: dpm repo add URL [--format F] [--name N] [--no-update]')
  const suites = [...(suite === undefined ? [] : [suite]), ...(values.suite as string[] | undefined ?? [])]
  const body = {
    url,
    ...(values.format === undefined ? {} : { format: values.format }),
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values['no-update'] === true ? { update: false } : {}),
    ...(suites.length === 0 ? {} : { suites }),
    ...(components.length + (values.component as string[] | undefined ?? []).length === 0 ? {} : { components: [...components, ...(values.component as string[] | undefined ?? [])] }),
    ...(values.arch === undefined ? {} : { architectures: values.arch })
  }
  const added = await node.call<{ repository: RepositoryInfo, update: UpdateResult }>('POST', '/-/api/repos', body)
  if (json) { process.stdout.write(`${JSON.stringify(added, null, 2)}\n`); return 0 }
  const { repository: r, update: u } = added
  const what = u.status === 'not-pulled'
    ? 'listing not pulled (--no-update; `dpm repo update` pulls it)'
    : u.status === 'cached'
      ? `${count(u.packages)} cached (an npm registry has no full listing: its catalog is what this node has cached)`
      : count(u.packages)
  process.stdout.write(`added ${r.name} (${r.format}, ${where(r)}): ${what}\n`)
  return 0
}

async function list (node: NodeClient, json: boolean): Promise<number> {
  const { repositories } = await node.call<{ repositories: RepositoryInfo[] }>('GET', '/-/api/repos')
  if (json) { process.stdout.write(`${JSON.stringify(repositories, null, 2)}\n`); return 0 }
  if (repositories.length === 0) { process.stdout.write('no repositories: add one with `dpm repo add URL`\n'); return 0 }
  const rows = [['NAME', 'FORMAT', 'PACKAGES', 'UPDATED (UTC)', 'URL'], ...repositories.map((r) => [
    r.name, r.format, String(r.packages), r.format === 'npm' ? 'the cache' : r.importedAt === undefined ? 'never' : utc(r.importedAt), where(r)
  ])]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  ')}\n`)
  return 0
}

async function remove (node: NodeClient, name: string, json: boolean): Promise<number> {
  const { removed } = await node.call<{ removed: { name: string, packages: number } }>('DELETE', `/-/api/repos/${encodeURIComponent(name)}`)
  if (json) { process.stdout.write(`${JSON.stringify(removed, null, 2)}\n`); return 0 }
  process.stdout.write(`removed ${removed.name}: ${count(removed.packages)} left the catalog (what is cached stays available through the gateway)\n`)
  return 0
}

async function update (node: NodeClient, names: string[], json: boolean): Promise<number> {
  const { results } = await node.call<{ results: UpdateResult[] }>('POST', '/-/api/repos/update', names.length === 0 ? {} : { names })
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
  else if (results.length === 0) process.stdout.write('no repositories to update: add one with `dpm repo add URL`\n')
  for (const r of json ? [] : results) {
    const line = r.status === 'not-modified'
      ? 'not modified, skipped'
      : r.status === 'updated'
        ? `updated, ${count(r.packages)}${r.renamedFrom === undefined ? '' : ` (renamed from ${r.renamedFrom}, the name it now declares)`}`
        : r.status === 'cached'
          ? `${count(r.packages)} cached (npm has no full listing to pull)`
          : `failed: ${r.error ?? 'unknown error'} (the previous listing stays)`
    ;(r.status === 'failed' ? process.stderr : process.stdout).write(`${r.name}: ${line}\n`)
  }
  return results.some((r) => r.status === 'failed') ? 1 : 0
}

const count = (n: number): string => `${n} ${n === 1 ? 'package' : 'packages'}`
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ')
/** The URL, and for apt the suites, components and architectures read. */
const where = (r: RepositoryInfo): string => r.apt === undefined ? r.url : `${r.url} ${r.apt.suites.join(',')} ${r.apt.components.join(',')} [${r.apt.architectures.join(',')}]`
