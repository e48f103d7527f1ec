import type { Hashes, ProjectFile, ProjectList, ProjectPage } from './documents.ts'
import { normalizeProjectName } from './project-name.ts'

/** The forms of a simple page a client can ask for (PEP 691), by `Accept`. */
export const CONTENT_TYPES = {
  json: 'application/vnd.pypi.simple.v1+json',
  v1html: 'application/vnd.pypi.simple.v1+html',
  html: 'text/html'
} as const
export type Form = keyof typeof CONTENT_TYPES

/** The API version this node speaks: 1.1 (PEP 700) when the upstream's JSON carried its fields. */
const apiVersionOf = (page: ProjectPage | ProjectList): string => page.apiVersion === '1.0' ? '1.0' : '1.1'

/** Where a client fetches a file from: the node, keeping the real filename as the last segment. */
export function fileUrl (baseUrl: string, project: string, filename: string): string {
  return `${baseUrl}files/${encodeURIComponent(normalizeProjectName(project))}/${encodeURIComponent(filename)}`
}

/** The one hash a PEP 503 link carries: sha256 when published. */
function fragment (hashes: Hashes): string {
  const [algorithm, hex] = hashes.sha256 !== undefined ? ['sha256', hashes.sha256] : Object.entries(hashes)[0] ?? []
  return algorithm === undefined ? '' : `#${algorithm}=${hex}`
}

/** A `.metadata` file is offered only with a hash to check it against. */
const offeredMetadata = (file: ProjectFile): Hashes | undefined =>
  file.coreMetadata !== undefined && Object.keys(file.coreMetadata).length > 0 ? file.coreMetadata : undefined

export function renderProjectJson (page: ProjectPage, baseUrl: string): string {
  return JSON.stringify({
    meta: { 'api-version': apiVersionOf(page) },
    name: normalizeProjectName(page.name),
    ...(page.versions !== undefined ? { versions: page.versions } : {}),
    files: page.files.map((file) => {
      const metadata = offeredMetadata(file)
      return {
        ...file.extra,
        filename: file.filename,
        url: fileUrl(baseUrl, page.name, file.filename),
        hashes: file.hashes,
        ...(file.requiresPython !== undefined ? { 'requires-python': file.requiresPython } : {}),
        // PEP 714: the new name only; pip up to 23.1 fails hard on `dist-info-metadata` in JSON
        ...(metadata !== undefined ? { 'core-metadata': metadata } : {}),
        ...(file.gpgSig !== undefined ? { 'gpg-sig': file.gpgSig } : {}),
        ...(file.yanked !== undefined ? { yanked: file.yanked } : {})
      }
    })
  })
}

export function renderProjectHtml (page: ProjectPage, baseUrl: string): string {
  const name = escape(normalizeProjectName(page.name))
  const links = page.files.map((file) => {
    const metadata = offeredMetadata(file)
    const attributes = [`href="${escape(fileUrl(baseUrl, page.name, file.filename) + fragment(file.hashes))}"`]
    if (file.requiresPython !== undefined) attributes.push(`data-requires-python="${escape(file.requiresPython)}"`)
    if (metadata !== undefined) {
      const value = escape(fragment(metadata).slice(1))
      attributes.push(`data-dist-info-metadata="${value}"`, `data-core-metadata="${value}"`)
    }
    if (file.gpgSig !== undefined) attributes.push(`data-gpg-sig="${file.gpgSig}"`)
    if (file.yanked !== undefined) attributes.push(file.yanked === true ? 'data-yanked=""' : `data-yanked="${escape(file.yanked)}"`)
    return `<a ${attributes.join(' ')}>${escape(file.filename)}</a><br/>`
  })
  return htmlPage(`Links for ${name}`, apiVersionOf(page), links)
}

export function renderIndexJson (list: ProjectList): string {
  return JSON.stringify({ meta: { 'api-version': apiVersionOf(list) }, projects: list.projects.map((name) => ({ name })) })
}

export function renderIndexHtml (list: ProjectList): string {
  return htmlPage('Simple index', apiVersionOf(list), list.projects.map((name) => `<a href="${escape(normalizeProjectName(name))}/">${escape(name)}</a><br/>`))
}

function htmlPage (title: string, apiVersion: string, body: string[]): string {
  return `<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="${apiVersion}">\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n${body.join('\n')}\n</body>\n</html>\n`
}

function escape (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
