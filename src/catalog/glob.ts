/**
 * Case-insensitive globs for search: `*` (any run of characters, `/` and `:`
 * included), `?` (one character), `[abc]`, `[a-z]`, `[!x]` / `[^x]`, `{a,b}`
 * and `\` to escape. Matched by simulating the pattern as a set of positions,
 * so time is linear in the text for any pattern: a regex built from a hostile
 * glob (`*a*a*a*a*a*b`, picomatch's output) backtracks for seconds on one key.
 */

/** A glob that cannot be read; its message says where. */
export class GlobError extends Error {
  static override readonly name = 'GlobError'
  override readonly name = GlobError.name
}

type Token =
  | { type: 'star' }
  | { type: 'any' }
  | { type: 'char', char: string }
  | { type: 'class', negated: boolean, ranges: Array<[string, string]> }

export interface Glob {
  readonly source: string
  /** Does the glob match the whole of `text`? */
  matches(text: string): boolean
  /**
   * Does it match `text` or a tail of it that begins after one of `boundaries`
   * (`lodash*` finds `npm:tarball:lodash/-/lodash-4.17.21.tgz`)?
   */
  matchesTail(text: string, boundaries: string): boolean
}

/** Brace alternatives a glob may expand to: `{a,b}{c,d}` is four. */
const MAX_ALTERNATIVES = 64

export function compileGlob (source: string): Glob {
  const alternatives = expandBraces(source).map(tokenize)
  const run = (text: string, boundaries: string): boolean => alternatives.some((tokens) => simulate(tokens, text.toLowerCase(), boundaries))
  return {
    source,
    matches: (text) => run(text, ''),
    matchesTail: (text, boundaries) => run(text, boundaries)
  }
}

/** `{a,b}` into separate globs, nested braces included; an escaped brace stays literal. */
function expandBraces (source: string): string[] {
  let open = -1
  let depth = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\') { i++; continue }
    if (c === '[') { i = classEnd(source, i); continue }
    if (c === '{') { if (depth++ === 0) open = i; continue }
    if (c !== '}') continue
    if (depth === 0) throw new GlobError(`unmatched "}" at position ${i + 1}`)
    if (--depth > 0) continue
    const before = source.slice(0, open)
    const after = source.slice(i + 1)
    const results: string[] = []
    for (const option of splitOptions(source.slice(open + 1, i))) {
      for (const tail of expandBraces(after)) {
        for (const inner of expandBraces(option)) {
          results.push(`${before}${inner}${tail}`)
          if (results.length > MAX_ALTERNATIVES) throw new GlobError(`braces expand to more than ${MAX_ALTERNATIVES} alternatives`)
        }
      }
    }
    return results
  }
  if (depth > 0) throw new GlobError(`unclosed "{" at position ${open + 1}`)
  return [source]
}

/** The top-level comma-separated options inside one pair of braces. */
function splitOptions (body: string): string[] {
  const options: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === '\\') { i++; continue }
    if (c === '[') { i = classEnd(body, i); continue }
    if (c === '{') depth++
    if (c === '}') depth--
    if (c === ',' && depth === 0) { options.push(body.slice(start, i)); start = i + 1 }
  }
  options.push(body.slice(start))
  return options
}

/** The index of the `]` closing the class that opens at `open`. */
function classEnd (source: string, open: number): number {
  let i = open + 1
  if (source[i] === '!' || source[i] === '^') i++
  if (source[i] === ']') i++ // a leading `]` is a member
  for (; i < source.length; i++) {
    if (source[i] === '\\') { i++; continue }
    if (source[i] === ']') return i
  }
  throw new GlobError(`unclosed "[" at position ${open + 1}`)
}

function tokenize (source: string): Token[] {
  const tokens: Token[] = []
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (c === '*') {
      if (tokens.at(-1)?.type !== 'star') tokens.push({ type: 'star' }) // `**` is `*`
    } else if (c === '?') {
      tokens.push({ type: 'any' })
    } else if (c === '\\') {
      if (i + 1 >= source.length) throw new GlobError('the glob ends with a lone "\\"')
      tokens.push({ type: 'char', char: source[++i]!.toLowerCase() })
    } else if (c === '[') {
      const end = classEnd(source, i)
      tokens.push(parseClass(source.slice(i + 1, end), i))
      i = end
    } else {
      tokens.push({ type: 'char', char: c.toLowerCase() })
    }
  }
  return tokens
}

function parseClass (body: string, at: number): Token {
  const negated = body[0] === '!' || body[0] === '^'
  const members = [...(negated ? body.slice(1) : body).replace(/\\(.)/g, '$1')]
  if (members.length === 0) throw new GlobError(`empty "[]" at position ${at + 1}`)
  const ranges: Array<[string, string]> = []
  for (let i = 0; i < members.length; i++) {
    const lo = members[i]!
    if (members[i + 1] === '-' && i + 2 < members.length) {
      const hi = members[i + 2]!
      if (lo > hi) throw new GlobError(`the range "${lo}-${hi}" at position ${at + 1} runs backwards`)
      ranges.push([lo, hi])
      i += 2
    } else {
      ranges.push([lo, lo])
    }
  }
  return { type: 'class', negated, ranges }
}

function inClass (token: Extract<Token, { type: 'class' }>, char: string): boolean {
  // the text is lower-cased; the class may name upper-case letters
  const forms = [char, char.toUpperCase()]
  const found = token.ranges.some(([lo, hi]) => forms.some((f) => f >= lo && f <= hi))
  return found !== token.negated
}

/** Every pattern position the text can have reached, one character at a time. */
function simulate (tokens: Token[], text: string, boundaries: string): boolean {
  const end = tokens.length
  let states = closure(tokens, new Set([0]))
  for (const char of text) {
    const next = new Set<number>()
    for (const s of states) {
      if (s === end) continue
      const token = tokens[s]!
      if (token.type === 'star') next.add(s)
      else if (token.type === 'any' || (token.type === 'char' && token.char === char) || (token.type === 'class' && inClass(token, char))) next.add(s + 1)
    }
    // a tail starting after a boundary is matched from the pattern's start
    if (boundaries.includes(char)) next.add(0)
    states = closure(tokens, next)
    if (states.size === 0 && boundaries === '') return false
  }
  return states.has(end)
}

/** A star may match nothing: the position after it is reached too. */
function closure (tokens: Token[], states: Set<number>): Set<number> {
  for (const s of states) if (tokens[s]?.type === 'star') states.add(s + 1)
  return states
}
