import JSON5 from 'json5'
import { isPackageName, isPackageVersion } from '../catalog/dds-package-id.ts'
import { parseDependency } from '../catalog/dds-version-range.ts'
import { RepomanError } from './errors.ts'

/** The file names dds looks for, in the order it prefers them. */
export const MANIFEST_NAMES = ['package.json5', 'package.jsonc', 'package.json']
/** A manifest is a few lines: anything bigger is not one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024

export { isPackageName, isPackageVersion }

export interface PackageManifest {
  name: string
  version: string
  namespace: string
  description?: string
  dependencies: Array<{ name: string, low: string, high: string, kind: string }>
}

/**
 * Reads a dds package manifest (JSON5): `name`, `namespace` and `version` are
 * required; `depends` (and `test_depends`) are arrays of `name^1.2.3` strings or,
 * in older manifests, an object of name → range.
 */
export function parseManifest (text: string, where: string): PackageManifest {
  let data: unknown
  try {
    data = JSON5.parse(text)
  } catch (err) {
    throw new RepomanError(`${where}: not a valid JSON5 package manifest: ${(err as Error).message}`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RepomanError(`${where}: the package manifest must be an object`)
  const m = data as Record<string, unknown>
  const text_ = (key: string): string => {
    if (typeof m[key] !== 'string') throw new RepomanError(`${where}: the package manifest needs a string "${key}"`)
    return m[key]
  }
  const name = text_('name')
  const version = text_('version')
  const namespace = text_('namespace')
  if (!isPackageName(name)) throw new RepomanError(`${where}: invalid package name "${name}"`)
  if (!isPackageVersion(version)) throw new RepomanError(`${where}: invalid version "${version}" (a semantic version like 1.2.3)`)
  const dependencies = [...depends(m.depends, 'depends', 'lib', where), ...depends(m.test_depends, 'test_depends', 'test', where)]
  return { name, version, namespace, description: typeof m.description === 'string' ? m.description : undefined, dependencies }
}

function depends (value: unknown, key: string, kind: string, where: string): PackageManifest['dependencies'] {
  if (value === undefined) return []
  const specs: string[] = Array.isArray(value)
    ? value.map((s) => { if (typeof s !== 'string') throw new RepomanError(`${where}: each of "${key}" must be a string`); return s })
    : typeof value === 'object' && value !== null
      ? Object.entries(value).map(([n, r]) => { if (typeof r !== 'string') throw new RepomanError(`${where}: "${key}.${n}" must be a range string`); return `${n}${r}` })
      : (() => { throw new RepomanError(`${where}: "${key}" must be an array of dependency strings`) })()
  return specs.map((spec) => {
    const dep = parseDependency(spec)
    if (dep === undefined) throw new RepomanError(`${where}: invalid dependency "${spec}" in "${key}" (expected name^1.2.3, name~1.2.3, name=1.2.3 or name+1.2.3)`)
    return { ...dep, kind }
  })
}
