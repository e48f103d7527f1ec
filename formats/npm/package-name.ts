import validate from 'validate-npm-package-name'
import { BadRequestError } from '../../src/errors.ts'

/** The longest request path the adapter will look at; npm names are at most 214 characters. */
const MAX_PATH = 1024

/**
 * Splits a request path into decoded segments, accepting every way npm spells a
 * scoped name (`@scope%2fname`, `@scope/name`, `%40scope%2fname`). Rejects what no
 * npm client sends: bad escapes, NUL and control characters, empty, `.` and `..` segments.
 */
export function decodeSegments (path: string): string[] {
  if (path.length > MAX_PATH) throw new BadRequestError('path too long')
  const segments: string[] = []
  for (const raw of path.replace(/^\//, '').split('/')) {
    let decoded: string
    try {
      decoded = decodeURIComponent(raw)
    } catch {
      throw new BadRequestError('invalid percent-encoding in path')
    }
    // %2f inside a segment is the scoped-name separator: split on it like a literal slash
    segments.push(...decoded.split('/'))
  }
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') throw new BadRequestError('invalid path segment')
    if (/[\u0000-\u001f\u007f\\]/.test(segment)) throw new BadRequestError('invalid character in path')
  }
  return segments
}

export interface PackageName {
  /** `lodash` or `@types/node`. */
  name: string
  /** How the registry spells it in a document URL: `lodash`, `@types%2fnode`. */
  escaped: string
}

/** Takes the package name off the front of the segments; the rest is what the path asks of it. */
export function takePackageName (segments: string[]): { pkg: PackageName, rest: string[] } {
  const [first, second] = segments
  if (first === undefined) throw new BadRequestError('missing package name')
  const scoped = first.startsWith('@')
  if (scoped && second === undefined) throw new BadRequestError('scoped package name needs @scope/name')
  const name = scoped ? `${first}/${second}` : first
  // npm's limit; validate-npm-package-name only warns about it for old packages, and none are longer
  if (name.length > 214) throw new BadRequestError('package name longer than 214 characters')
  const check = validate(name)
  if (!check.validForOldPackages) throw new BadRequestError(`invalid package name "${name}": ${(check.errors ?? [])[0] ?? 'not allowed'}`)
  return {
    pkg: { name, escaped: name.replace('/', '%2f') },
    rest: segments.slice(scoped ? 2 : 1)
  }
}
