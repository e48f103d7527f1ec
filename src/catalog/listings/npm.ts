import type { IndexRecord } from '../../index/index-record.ts'
import type { ListedPackage } from '../repository.ts'

const PACKUMENT = 'npm:packument:'
const TARBALL = 'npm:tarball:'

/**
 * An npm registry publishes no full listing, so its part of the catalog is what
 * this node has cached — read from the local index each time rather than copied:
 * a package whose packument or tarballs are stored, with the versions whose
 * tarballs are (`npm:tarball:<name>/-/<basename>-<version>.tgz`), which is also
 * what `dpm prefetch` fetched.
 */
export async function cachedNpmPackages (index: { all(): AsyncIterable<IndexRecord> }): Promise<ListedPackage[]> {
  const versions = new Map<string, Set<string>>()
  const named = (name: string): Set<string> => {
    let set = versions.get(name)
    if (set === undefined) versions.set(name, set = new Set())
    return set
  }
  for await (const { key } of index.all()) {
    if (key.startsWith(PACKUMENT)) {
      named(key.slice(PACKUMENT.length))
    } else if (key.startsWith(TARBALL)) {
      const [name, file] = key.slice(TARBALL.length).split('/-/')
      if (name === undefined || file === undefined) continue
      const base = `${name.slice(name.lastIndexOf('/') + 1)}-`
      const set = named(name)
      if (file.startsWith(base) && file.endsWith('.tgz')) set.add(file.slice(base.length, -'.tgz'.length))
    }
  }
  return [...versions].flatMap(([name, set]) => set.size === 0 ? [{ name }] : [...set].map((version) => ({ name, version })))
}
