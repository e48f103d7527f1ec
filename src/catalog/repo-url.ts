import { BadRequestError } from '../errors.ts'

/**
 * A repository URL as the catalog keeps it: http(s), no credentials, query or
 * fragment, its path ending in `/` (the repository's root; a dds `…/repo.db.gz`
 * names its directory).
 */
export function normalizeRepositoryUrl (given: string): URL {
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new BadRequestError(`not a URL: ${given.slice(0, 200)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError(`expected an http:// or https:// URL, not ${url.protocol}`)
  if (url.username !== '' || url.password !== '') throw new BadRequestError('a repository URL must not carry credentials (they would show in `repo ls`)')
  if (url.search !== '' || url.hash !== '') throw new BadRequestError('a repository URL is its root: drop the ?query and #fragment')
  url.pathname = url.pathname.replace(/\/repo\.db\.gz$/, '/').replace(/\/?$/, '/')
  return url
}

/**
 * `https://repo.example.org:8443/x/` → `repo.example.org`: what a repository is
 * called when nothing else names it (`repo-example-org` for dds, whose names have no dots).
 */
export function nameFromUrl (url: URL, format: string): string {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return (format === 'dds' ? host.replace(/[^a-z0-9_-]/g, '-') : host.replace(/[^a-z0-9._-]/g, '-')).replace(/^[^a-z0-9]+/, '').slice(0, 64)
}
