import { parseArgs } from 'node:util'
import { RepomanError } from '../repoman/errors.ts'
import { addListing, importArchive, initRepository, listRepository, removePackage } from '../repoman/repository.ts'

const USAGE = `usage: dpm repoman <command>

  init DIR --name NAME        create a repository in DIR (repo.db, repo.db.gz, pkg/)
  ls DIR                      list its packages
  import DIR ARCHIVE...       add sdists (.tar.gz with a package.json5 at the root)
  add DIR URL [--description TEXT]
                              list a package by URL: https://….tar.gz, git+https://…#ref, github:owner/repo/ref
  remove DIR NAME@VERSION     remove a package (and its sdist)
`

class UsageError extends Error {}

/** `dpm repoman …`: manages a static dds repository directory. */
export async function runRepoman (args: string[]): Promise<number> {
  const [sub, ...rest] = args
  try {
    switch (sub) {
      case 'init': {
        const { values, positionals } = parse(rest, { name: { type: 'string' } })
        const [dir] = exactly(positionals, 1, 'init DIR --name NAME')
        if (values.name === undefined) throw new UsageError('init needs --name NAME')
        await initRepository(dir, values.name as string)
        process.stdout.write(`created repository "${values.name}" in ${dir}\n`)
        return 0
      }
      case 'ls': {
        const [dir] = exactly(parse(rest).positionals, 1, 'ls DIR')
        const repo = await listRepository(dir)
        for (const p of repo.packages) process.stdout.write(`${p.name}@${p.version}\t${p.url}\n`)
        return 0
      }
      case 'import': {
        const { positionals } = parse(rest)
        if (positionals.length < 2) throw new UsageError('import DIR ARCHIVE...')
        const [dir, ...archives] = positionals as [string, ...string[]]
        let failed = 0
        for (const archive of archives) {
          try {
            const m = await importArchive(dir, archive)
            process.stdout.write(`imported ${m.name}@${m.version} from ${archive}\n`)
          } catch (err) {
            if (!(err instanceof RepomanError)) throw err
            process.stderr.write(`dpm repoman: ${err.message}\n`)
            failed++
          }
        }
        return failed === 0 ? 0 : 1
      }
      case 'add': {
        const { values, positionals } = parse(rest, { description: { type: 'string' } })
        const [dir, url] = exactly(positionals, 2, 'add DIR URL')
        const m = await addListing(dir, url, values.description as string | undefined)
        process.stdout.write(`added ${m.name}@${m.version} from ${url}\n`)
        return 0
      }
      case 'remove': {
        const [dir, id] = exactly(parse(rest).positionals, 2, 'remove DIR NAME@VERSION')
        await removePackage(dir, id)
        process.stdout.write(`removed ${id}\n`)
        return 0
      }
      case undefined:
      case 'help':
      case '--help':
        if (sub === undefined) throw new UsageError('name a command')
        process.stdout.write(USAGE)
        return 0
      default:
        throw new UsageError(`unknown command "${sub}"`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dpm repoman: ${err.message}\n\n${USAGE}`)
      return 2
    }
    if (err instanceof RepomanError) {
      process.stderr.write(`dpm repoman: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

function parse (args: string[], options: Record<string, { type: 'string' | 'boolean' }> = {}): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

function exactly (positionals: string[], n: number, usage: string): [string, string] {
  if (positionals.length !== n) throw new UsageError(`expected ${usage}`)
  return [positionals[0]!, positionals[1] ?? '']
}
