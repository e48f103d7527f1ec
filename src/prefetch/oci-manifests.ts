import { MANIFEST_TYPES } from '../../formats/oci/manifest.ts'
import type { ImageReference, Platform } from './oci-images.ts'
import type { Session } from './session.ts'

const MAX_MANIFEST = 4 * 1024 * 1024
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/

interface Descriptor { digest?: unknown, platform?: { os?: unknown, architecture?: unknown, variant?: unknown } }
interface ManifestJson { manifests?: Descriptor[], config?: Descriptor, layers?: Descriptor[] }

/**
 * Each image as a puller asks for it: the manifest its tag names; if that is an
 * index, every per-platform manifest in it (or those of `platforms`); from each
 * manifest its config and layers.
 */
export async function prefetchImages (images: ImageReference[], platforms: Platform[] | undefined, session: Session): Promise<void> {
  await Promise.all(images.map(async (image) => { await walk(image, image.reference, platforms, session, 0) }))
}

async function walk (image: ImageReference, reference: string, platforms: Platform[] | undefined, session: Session, depth: number): Promise<void> {
  const base = `/v2/${image.registry}/${image.repository}`
  const label = reference === image.reference ? image.text : `${image.text} ${reference.slice(0, 19)}`
  const path = `${base}/manifests/${reference}`
  const bytes = await session.read(path, label, { accept: MANIFEST_TYPES.join(', '), maxBytes: MAX_MANIFEST })
  if (bytes === undefined) return
  let manifest: ManifestJson
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes)) as ManifestJson
    if (typeof manifest !== 'object' || manifest === null) throw new Error('not an object')
  } catch {
    session.fail({ label, path, error: 'the manifest is not JSON' })
    return
  }

  if (Array.isArray(manifest.manifests)) {
    if (depth > 1) { session.fail({ label, path, error: 'an index nested deeper than two levels' }); return }
    const children = manifest.manifests.filter((m) => platforms === undefined || platforms.some((p) => matches(m, p)))
    if (children.length === 0) {
      const offered = manifest.manifests.map((m) => platformText(m)).join(', ')
      session.fail({ label, path, error: `no manifest for ${platforms?.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/')).join(', ')} in the index (it has ${offered || 'none'})` })
      return
    }
    await Promise.all(children.map(async (child) => {
      if (typeof child.digest !== 'string' || !DIGEST.test(child.digest)) { session.fail({ label, path, error: `an index entry with an invalid digest: ${String(child.digest).slice(0, 80)}` }); return }
      await walk(image, child.digest, platforms, session, depth + 1)
    }))
    return
  }

  if (manifest.config === undefined || !Array.isArray(manifest.layers)) {
    session.fail({ label, path, error: 'neither an image index nor an image manifest (schema 2)' })
    return
  }
  const blobs = [{ what: 'config', descriptor: manifest.config }, ...manifest.layers.map((descriptor) => ({ what: 'layer', descriptor }))]
  await Promise.all(blobs.map(async ({ what, descriptor }) => {
    const digest = descriptor.digest
    if (typeof digest !== 'string' || !DIGEST.test(digest)) { session.fail({ label, path, error: `a ${what} with an invalid digest: ${String(digest).slice(0, 80)}` }); return }
    await session.warm(`${base}/blobs/${digest}`, `${image.text} ${what} ${digest.slice(0, 19)}`)
  }))
}

const matches = (m: Descriptor, p: Platform): boolean =>
  m.platform?.os === p.os && m.platform.architecture === p.architecture && (p.variant === undefined || m.platform.variant === p.variant)

const platformText = (m: Descriptor): string =>
  [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter((s) => typeof s === 'string').join('/') || '?'
