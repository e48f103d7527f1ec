/**
 * Whether two version strings are the same PEP 440 version, as `==` compares
 * them: `1.0` is `1.0.0`, `1.0-RC1` is `1.0rc1`, a leading `v` is nothing.
 */
export function sameVersion (a: string, b: string): boolean {
  return normalize(a) === normalize(b)
}

function normalize (version: string): string {
  const text = version.trim().toLowerCase().replace(/^v/, '')
  const match = /^(?:(\d+)!)?(\d+(?:\.\d+)*)(.*)$/.exec(text)
  if (match === null) return text
  const release = match[2]!.split('.').map(Number)
  while (release.length > 1 && release.at(-1) === 0) release.pop()
  const rest = match[3]!
    .replace(/[-_.]/g, '')
    .replace(/alpha|beta|preview|pre|rc|c/g, (m) => m === 'alpha' ? 'a' : m === 'beta' ? 'b' : 'rc')
  return `${Number(match[1] ?? 0)}!${release.join('.')}${rest}`
}
