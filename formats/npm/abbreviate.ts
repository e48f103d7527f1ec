import type { Packument, PackumentVersion } from './packument.ts'

/**
 * The fields of a version that the abbreviated ("corgi") packument keeps, after
 * npm's registry documentation (package-metadata.md). Upstreams that ignore the
 * install-v1 `Accept` header send the full document; the node abbreviates it itself.
 */
const VERSION_FIELDS = [
  'name', 'version', 'deprecated', 'dependencies', 'optionalDependencies', 'devDependencies',
  'bundleDependencies', 'bundledDependencies', 'peerDependencies', 'peerDependenciesMeta',
  'acceptDependencies', 'bin', 'directories', 'dist', 'engines', 'cpu', 'os', 'libc',
  '_hasShrinkwrap', 'hasInstallScript', 'funding', 'license'
] as const

export function abbreviate (packument: Packument, tarballUrl: (version: PackumentVersion) => string): Record<string, unknown> {
  const versions: Record<string, Record<string, unknown>> = {}
  for (const [id, version] of Object.entries(packument.versions)) {
    const full = version as Record<string, unknown>
    const kept: Record<string, unknown> = {}
    for (const field of VERSION_FIELDS) if (full[field] !== undefined) kept[field] = full[field]
    // npm decides on install scripts from this flag alone in abbreviated metadata
    if (kept.hasInstallScript === undefined && hasInstallScript(full)) kept.hasInstallScript = true
    // the kept fields are already a copy: only `dist` is copied again, to take the new link
    kept.dist = { ...version.dist, tarball: tarballUrl(version) }
    versions[id] = kept
  }
  return {
    name: packument.name,
    'dist-tags': packument['dist-tags'],
    modified: packument.modified ?? (packument.time?.modified as string | undefined),
    versions
  }
}

function hasInstallScript (version: Record<string, unknown>): boolean {
  const scripts = version.scripts as Record<string, unknown> | undefined
  return scripts != null && ['preinstall', 'install', 'postinstall'].some((s) => scripts[s] !== undefined)
}
