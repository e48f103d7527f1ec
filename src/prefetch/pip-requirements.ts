import { InputError } from './input-error.ts'
import type { Skip } from './session.ts'

/** A requirement pinned to one version, with the hashes (`--hash=`) that pick its exact files, if any. */
export interface PinnedRequirement {
  /** PEP 503 normal form: `neo-util`. */
  project: string
  version: string
  /** `sha256:<hex>` and the like, lower case; empty: every file of the version. */
  hashes: string[]
  line: number
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/
const SPECIFIER = /^(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;]+)$/
const HASH = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/
/** Options that name other files or other sources: reported, since prefetch does not follow them. */
const REPORTED_OPTIONS: Record<string, string> = {
  '-r': 'an included requirements file: give it as a FILE of its own',
  '--requirement': 'an included requirements file: give it as a FILE of its own',
  '-c': 'a constraints file: constraints install nothing',
  '--constraint': 'a constraints file: constraints install nothing',
  '-e': 'an editable install, not from an index',
  '--editable': 'an editable install, not from an index'
}

export const normalizeProject = (name: string): string => name.replace(/[-_.]+/g, '-').toLowerCase()

/**
 * The pinned requirements of a pip requirements file (what `pip freeze`,
 * `pip-compile` and `uv pip compile` write): `name[extras]==version`, markers
 * ignored, `--hash=` options kept. Unpinned lines, URLs, paths and included files
 * are reported as skipped; a line that is none of these is an error.
 */
export function parseRequirements (text: string, file: string): { pins: PinnedRequirement[], skipped: Skip[] } {
  const pins = new Map<string, PinnedRequirement>()
  const skipped: Skip[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1
    let line = lines[i]!
    // a trailing backslash continues the line (pip-compile puts each --hash on its own)
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!}`
    line = line.replace(/(^|\s)#.*$/, '').trim()
    if (line === '') continue
    const where = `line ${number}`

    if (line.startsWith('-')) {
      const option = line.startsWith('--') ? line.split(/[\s=]/)[0]! : line.slice(0, 2)
      const reason = REPORTED_OPTIONS[option]
      if (reason !== undefined) skipped.push({ file, what: `${where}: ${line}`, reason })
      continue // index and install options: the node is the index
    }
    const optionsAt = line.search(/\s--?[a-z]/)
    const requirement = (optionsAt === -1 ? line : line.slice(0, optionsAt)).split(';')[0]!.trim()
    const options = optionsAt === -1 ? '' : line.slice(optionsAt)

    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(requirement) || /^[./~]/.test(requirement) || /\.(whl|zip|tar\.gz|tgz)$/i.test(requirement)) {
      skipped.push({ file, what: `${where}: ${requirement}`, reason: 'a URL or a path, not from an index' })
      continue
    }
    const named = NAME.exec(requirement)
    if (named === null) throw new InputError(file, `${where}: not a requirement: ${line.slice(0, 80)}`)
    const [, name, , rest] = named as unknown as [string, string, string | undefined, string]
    if (rest.startsWith('@')) {
      skipped.push({ file, what: `${where}: ${requirement}`, reason: 'a direct URL, not from an index' })
      continue
    }
    const specifiers = rest === '' ? [] : rest.replace(/^\(|\)$/g, '').split(',').map((s) => s.trim())
    const parsed = specifiers.map((s) => SPECIFIER.exec(s))
    if (parsed.some((p) => p === null)) throw new InputError(file, `${where}: not a version specifier: ${rest.slice(0, 80)}`)
    const pin = parsed.length === 1 && (parsed[0]![1] === '==' || parsed[0]![1] === '===') && !parsed[0]![2]!.includes('*') ? parsed[0]![2]! : undefined
    if (pin === undefined) {
      skipped.push({ file, what: `${where}: ${requirement}`, reason: rest === '' ? 'not pinned to a version (name==version)' : `not pinned to one version (${rest})` })
      continue
    }

    const hashes: string[] = []
    const tokens = options.trim() === '' ? [] : options.trim().split(/\s+/)
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t]!
      if (token !== '--hash' && !token.startsWith('--hash=')) continue
      const value = token === '--hash' ? tokens[++t] ?? '' : token.slice('--hash='.length)
      const hash = HASH.exec(value)
      if (hash === null) throw new InputError(file, `${where}: not a hash (expected --hash=sha256:<hex>): ${value.slice(0, 80)}`)
      hashes.push(`${hash[1]}:${hash[2]!.toLowerCase()}`)
    }
    const project = normalizeProject(name)
    const key = `${project}==${pin}`
    const earlier = pins.get(key)
    // the same pin twice: every file one of them asks for (all of them, if one gives no hashes)
    if (earlier === undefined) pins.set(key, { project, version: pin, hashes, line: number })
    else earlier.hashes = earlier.hashes.length === 0 || hashes.length === 0 ? [] : [...new Set([...earlier.hashes, ...hashes])]
  }
  return { pins: [...pins.values()], skipped }
}
