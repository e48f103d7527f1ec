import { BadRequestError } from '../errors.ts'
import type { SearchAnswer } from '../gateway/search-both.ts'
import { parseQuery } from '../index/search-cached.ts'
import { runClientCommand, UsageError } from './client-command.ts'

const USAGE = 'usage: dpm pkg search [GLOB] [--url NODE] [--json]   (GLOB: a case-insensitive glob over package names, default *)'
const MAX = 100_000

/**
 * `dpm pkg search [GLOB]`: the catalog's packages whose name matches, as dds
 * prints them (`Name:`, `Versions:` sorted by version, `From:`, a blank line
 * between); none matching is a one-line failure naming the closest names.
 */
export async function runPkg (args: string[]): Promise<number> {
  return await runClientCommand('pkg search', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, async (node, values, positionals) => {
    if (values.help === true) { process.stdout.write(`${USAGE}\n`); return 0 }
    const [sub, glob = '*', ...extra] = positionals
    if (sub !== 'search') throw new UsageError(sub === undefined ? USAGE : `unknown subcommand "${sub}": ${USAGE}`)
    if (extra.length > 0) throw new UsageError(`one glob at most (quote it so the shell leaves it alone): ${USAGE}`)
    try {
      parseQuery(glob)
    } catch (err) {
      if (err instanceof BadRequestError) throw new UsageError(err.message)
      throw err
    }
    const answer = await node.call<SearchAnswer>('GET', `/-/api/search?q=${encodeURIComponent(glob)}&limit=${MAX}`)
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify({ query: answer.query, packages: answer.packages, truncated: answer.packagesTruncated, suggestions: answer.suggestions }, null, 2)}\n`)
      return answer.packages.length === 0 ? 1 : 0
    }
    if (answer.packages.length === 0) {
      const hint = answer.suggestions.length > 0
        ? `; the closest names: ${answer.suggestions.join(', ')}`
        : (await node.call<{ repositories: unknown[] }>('GET', '/-/api/repos')).repositories.length === 0 ? '; the catalog is empty: add a repository with `dpm repo add URL`' : ''
      process.stderr.write(`dpm pkg search: no package matches "${glob}"${hint}\n`)
      return 1
    }
    process.stdout.write(answer.packages.map((p) =>
      `    Name: ${p.name}\nVersions: ${p.versions.length === 0 ? `(${p.versionsNote ?? 'none listed'})` : p.versions.join(', ')}\n    From: ${p.from.join(', ')}\n`
    ).join('\n'))
    if (answer.packagesTruncated) process.stderr.write(`dpm pkg search: more than ${MAX} packages match; the first ${MAX} are shown\n`)
    return 0
  })
}
