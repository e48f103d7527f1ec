import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The mirrors this host's apt uses, as `name=url` pairs: every http(s) URI in
 * `sources.list` and `sources.list.d/` (one-line `.list` and deb822 `.sources`),
 * each named after its last path segment (`debian`, `debian-security`); a name
 * taken already gets the host's first label (`ubuntu-security`).
 */
export function hostSources (etc = '/etc/apt'): string {
  const uris = new Set<string>()
  for (const file of sourceFiles(etc)) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    const found = file.endsWith('.sources') ? deb822Uris(text) : oneLineUris(text)
    for (const uri of found) if (/^https?:\/\//.test(uri)) uris.add(uri.endsWith('/') ? uri : `${uri}/`)
  }
  const names = new Map<string, string>()
  for (const uri of uris) {
    const url = new URL(uri)
    const last = url.pathname.split('/').filter(Boolean).at(-1) ?? url.hostname.split('.')[0]!
    const name = [last, `${last}-${url.hostname.split('.')[0]}`, url.hostname].map(clean).find((n) => !names.has(n))
    if (name !== undefined) names.set(name, uri)
  }
  return [...names].map(([name, uri]) => `${name}=${uri}`).join(',')
}

function sourceFiles (etc: string): string[] {
  let parts: string[] = []
  try {
    parts = readdirSync(join(etc, 'sources.list.d')).filter((f) => f.endsWith('.list') || f.endsWith('.sources')).sort().map((f) => join(etc, 'sources.list.d', f))
  } catch {}
  return [join(etc, 'sources.list'), ...parts]
}

/** `deb [options] URI suite component…`, comments and `deb-src` lines skipped. */
function oneLineUris (text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const words = line.replace(/#.*/, '').replace(/\[[^\]]*\]/, '').trim().split(/\s+/)
    return words[0] === 'deb' && words[1] !== undefined ? [words[1]] : []
  })
}

/** `Types: deb` paragraphs, their `URIs:` (several, space separated), `Enabled: no` skipped. */
function deb822Uris (text: string): string[] {
  return text.split(/\n\s*\n/).flatMap((paragraph) => {
    const fields = new Map<string, string>()
    for (const line of paragraph.split('\n')) {
      const field = /^([A-Za-z-]+):\s*(.*)$/.exec(line.replace(/#.*/, ''))
      if (field !== null) fields.set(field[1]!.toLowerCase(), field[2]!.trim())
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb') || fields.get('enabled') === 'no') return []
    return (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)
  })
}

const clean = (name: string): string => name.toLowerCase().replace(/[^a-z0-9_-]/g, '-')
