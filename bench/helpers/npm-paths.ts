import pLimit from 'p-limit'

/** A package's packument path under a registry's root, the scope's slash escaped as npm sends it. */
export const packumentPath = (name: string): string => name.replace('/', '%2f')

/** A package version's tarball path under a registry's root. */
export const tarballPath = (p: { name: string, version: string }): string => `${p.name}/-/${p.name.slice(p.name.lastIndexOf('/') + 1)}-${p.version}.tgz`

/** npm's own `maxsockets`. */
export const NPM_CONCURRENCY = 15

/** Fetches every URL whole, `NPM_CONCURRENCY` at a time as npm does: the bytes received, and each request's milliseconds to its last byte. */
export async function fetchAll (urls: string[], headers: Record<string, string> = {}): Promise<{ bytes: number, requestMs: number[] }> {
  const limit = pLimit(NPM_CONCURRENCY)
  let bytes = 0
  const requestMs: number[] = []
  await Promise.all(urls.map(async (url) => await limit(async () => {
    const started = performance.now()
    const response = await fetch(url, { headers })
    if (!response.ok) throw new Error(`${url}: ${response.status}`)
    const body = await response.arrayBuffer() // not `bytes += await …`: that adds to the count as it was before the wait
    requestMs.push(performance.now() - started)
    bytes += body.byteLength
  })))
  return { bytes, requestMs }
}
