import { compare as comparePep440, valid as validPep440 } from '@renovatebot/pep440'
import semver from 'semver'
import { compareDebianVersions } from '../prefetch/debian-version.ts'

/** Digit runs by value, the rest as text: the order of last resort for versions no scheme reads. */
const natural = new Intl.Collator('en', { numeric: true })

/**
 * Orders versions the way their format does: dpkg's rules for apt, PEP 440's
 * for Python, semver's for npm and dds (and wherever both are semver), else
 * numbers by value within the text.
 */
export function compareVersions (format: string, a: string, b: string): number {
  if (format === 'apt') return compareDebianVersions(a, b)
  if (semver.valid(a) !== null && semver.valid(b) !== null) return semver.compare(a, b)
  if (format === 'pypi' && validPep440(a) !== null && validPep440(b) !== null) return comparePep440(a, b)
  return natural.compare(a, b)
}
