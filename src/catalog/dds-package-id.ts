import { isVersion } from './dds-version-range.ts'

/** dds's package names: lower case, words joined by `.`, `_` or `-`; always safe as one path segment. */
const NAME = /^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/
const MAX = 128

export const isPackageName = (s: string): boolean => s.length <= MAX && NAME.test(s)
export const isPackageVersion = (s: string): boolean => s.length <= MAX && isVersion(s)
/** A repository's name, which is also its gateway path (`/dds/<name>/`) and its `DPM_DDS_UPSTREAMS` entry. */
export const isRepositoryName = (s: string): boolean => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(s)
