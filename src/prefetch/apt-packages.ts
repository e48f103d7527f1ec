import { InputError } from './input-error.ts'

/** A package an apt list names, at a version (`name=version`) or the newest the index has. */
export interface AptWanted { name: string, version?: string }

/** Where the packages are looked up: the node's `/apt/<name>` mount, a suite, a component, an architecture. */
export interface AptSource { name: string, suite: string, component: string, architecture: string }

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/
const VERSION = /^[0-9][A-Za-z0-9.+~:-]*$/

/**
 * A list of apt packages: names separated by spaces or lines, each optionally
 * `name=version` (as `dpkg-query -W -f='${Package}=${Version}\n'` prints them), `#` comments.
 */
export function parseAptList (text: string, file: string): AptWanted[] {
  const wanted = new Map<string, AptWanted>()
  text.split(/\r?\n/).forEach((raw, i) => {
    for (const word of raw.replace(/(^|\s)#.*$/, '').trim().split(/[\s,]+/).filter(Boolean)) {
      const [name, version, ...more] = word.split('=')
      if (name === undefined || more.length > 0 || !PACKAGE.test(name)) throw new InputError(file, `line ${i + 1}: not a package name: ${word.slice(0, 80)}`)
      if (version !== undefined && !VERSION.test(version)) throw new InputError(file, `line ${i + 1}: not a Debian version: ${word.slice(0, 80)}`)
      wanted.set(word, version === undefined ? { name } : { name, version })
    }
  })
  return [...wanted.values()]
}

/** The Debian architecture of this machine, apt's default. */
export function hostArchitecture (): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64el' }
  return names[process.arch] ?? process.arch
}
