import { request, type IncomingHttpHeaders } from 'node:http'

/**
 * A request whose path and headers go out exactly as given (fetch would resolve
 * `..` and `%2e%2e` before they left the client); one that takes 10 s is a hung
 * request, and fails.
 */
export async function rawRequest (base: string, path: string, init: { method?: string, headers?: Record<string, string> } = {}): Promise<{ status: number, headers: IncomingHttpHeaders, body: string }> {
  const { hostname, port } = new URL(base)
  return await new Promise((resolve, reject) => {
    request({ hostname, port, path, method: init.method ?? 'GET', headers: init.headers, signal: AbortSignal.timeout(10_000) }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    }).on('error', reject).end()
  })
}
