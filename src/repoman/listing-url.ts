import { RepomanError } from './errors.ts'

/** Where a listing added by URL is fetched from, as dds reads the URL. */
export type ListingSource =
  | { kind: 'archive', url: string }
  | { kind: 'git', url: string, ref: string }

const SEGMENT = /^[A-Za-z0-9._-]+$/

/**
 * `https://…` (a `.tar.gz` of the package), `git+https://…#ref` (the fragment
 * names the tag or branch: required) or `github:owner/repo/ref` (exactly three
 * path elements, fetched as GitHub's archive of that ref). `http` and `git+http`
 * as dds takes them too.
 */
export function parseListingUrl (text: string): ListingSource {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new RepomanError(`invalid URL "${text}"`)
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return { kind: 'archive', url: url.href }
    case 'git+http:':
    case 'git+https:': {
      const ref = decodeURIComponent(url.hash.slice(1))
      if (ref === '') throw new RepomanError(`git URL "${text}" needs a fragment naming the Git ref to clone (…#v1.2.3)`)
      if (ref.startsWith('-') || /[\s\\~^:?*[]|\.\./.test(ref)) throw new RepomanError(`git URL "${text}": "${ref}" is not a Git ref`)
      const clone = new URL(text.slice('git+'.length))
      clone.hash = ''
      return { kind: 'git', url: clone.href, ref }
    }
    case 'github:': {
      const parts = url.pathname.split('/')
      if (url.host !== '' || parts.length !== 3 || !parts.every((p) => SEGMENT.test(p) && p !== '.' && p !== '..') || url.search !== '' || url.hash !== '') {
        throw new RepomanError(`invalid github: URL "${text}": expected github:owner/repo/ref, exactly three path elements`)
      }
      const [owner, repo, ref] = parts
      return { kind: 'archive', url: `https://github.com/${owner}/${repo}/archive/${ref}.tar.gz` }
    }
    default:
      throw new RepomanError(`unsupported URL scheme "${url.protocol}" in "${text}" (use https://, git+https://…#ref or github:owner/repo/ref)`)
  }
}
