import { eq } from '@renovatebot/pep440'

/**
 * Whether two version strings are the same PEP 440 version, as `==` compares
 * them (`1.0` is `1.0.0`, `1.0-RC1` is `1.0rc1`); strings that are no PEP 440
 * version at all are the same only as text.
 */
export function sameVersion (a: string, b: string): boolean {
  return eq(a, b) || a.trim() === b.trim()
}
