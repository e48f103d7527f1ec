import { InputError } from './input-error.ts'

/** An image an image list names: the registry's key in `DPM_OCI_UPSTREAMS`, the repository, and a tag or a digest. */
export interface ImageReference {
  registry: string
  repository: string
  /** A tag, or `sha256:<hex>`. */
  reference: string
  /** As the list wrote it, for messages. */
  text: string
}

/** An OS and CPU an index entry is for: `linux/amd64`, `linux/arm/v7`. */
export interface Platform { os: string, architecture: string, variant?: string }

const COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/
/** Docker's rule: a first segment with a dot or a colon, or `localhost`, names a registry. */
const looksLikeHost = (segment: string): boolean => segment.includes('.') || segment.includes(':') || segment === 'localhost'

/**
 * An image list: one reference a line (`registry/repo:tag`, `repo@sha256:…`, a
 * Docker Hub name such as `alpine:3.20`), `#` comments. A name without a registry
 * is on `docker.io` (one-segment names under `library/`); without a tag it is `latest`.
 */
export function parseImageList (text: string, file: string): ImageReference[] {
  const images = new Map<string, ImageReference>()
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (line === '') return
    const image = parseImageReference(line)
    if (typeof image === 'string') throw new InputError(file, `line ${i + 1}: ${image}: ${line.slice(0, 120)}`)
    images.set(`${image.registry}/${image.repository}@${image.reference}`, image)
  })
  return [...images.values()]
}

/** A reference as Docker reads one, or what is wrong with it. */
export function parseImageReference (text: string): ImageReference | string {
  if (/\s/.test(text)) return 'one image a line'
  const [nameAndTag, digest, ...more] = text.split('@')
  if (more.length > 0 || nameAndTag === undefined) return 'more than one @'
  if (digest !== undefined && !DIGEST.test(digest)) return 'not a digest (sha256:<64 hex>)'
  const colon = nameAndTag.lastIndexOf(':')
  const tagged = colon > nameAndTag.lastIndexOf('/')
  const tag = tagged ? nameAndTag.slice(colon + 1) : undefined
  if (tag !== undefined && !TAG.test(tag)) return 'not a tag'
  let segments = (tagged ? nameAndTag.slice(0, colon) : nameAndTag).split('/')
  let registry = 'docker.io'
  if (segments.length > 1 && looksLikeHost(segments[0]!)) {
    registry = segments[0] === 'index.docker.io' ? 'docker.io' : segments[0]!
    segments = segments.slice(1)
  }
  if (segments.length === 0 || !segments.every((s) => COMPONENT.test(s))) return 'not a repository name (lower-case letters, digits and separators)'
  if (registry === 'docker.io' && segments.length === 1) segments = ['library', segments[0]!]
  return { registry, repository: segments.join('/'), reference: digest ?? tag ?? 'latest', text }
}

/** `linux/amd64,linux/arm64/v8`, as `--platform` takes them. */
export function parsePlatforms (text: string): Platform[] | undefined {
  const platforms = text.split(',').map((p) => p.trim().split('/'))
  if (platforms.some((p) => p.length < 2 || p.length > 3 || p.some((s) => !/^[a-z0-9_]+$/.test(s)))) return undefined
  return platforms.map(([os, architecture, variant]) => ({ os: os!, architecture: architecture!, ...(variant === undefined ? {} : { variant }) }))
}
