import { prefetchApt } from './apt-indexes.ts'
import type { AptSource } from './apt-packages.ts'
import { prefetchImages } from './oci-manifests.ts'
import type { Platform } from './oci-images.ts'
import { prefetchPypi } from './pypi-files.ts'
import type { PrefetchInput } from './read-input.ts'
import type { Session } from './session.ts'

export interface PrefetchOptions {
  /** Only these platforms of an OCI index; all of them when absent. */
  platforms?: Platform[]
  /** Where apt lists are looked up. */
  apt?: AptSource
}

/**
 * Every input at once, all through the session's one limiter, the inputs of one
 * kind taken together (two lists of one suite read its index once); resolves
 * when the last item has ended.
 */
export async function runPrefetch (inputs: PrefetchInput[], options: PrefetchOptions, session: Session): Promise<void> {
  const tarballs = inputs.flatMap((i) => i.kind === 'npm' ? i.tarballs : [])
  const pins = inputs.flatMap((i) => i.kind === 'pypi' ? i.pins : [])
  const images = inputs.flatMap((i) => i.kind === 'oci' ? i.images : [])
  const packages = inputs.flatMap((i) => i.kind === 'apt' ? i.packages : [])
  if (packages.length > 0 && options.apt === undefined) throw new Error('an apt list needs an apt source')
  await Promise.all([
    ...tarballs.map(async (t) => await session.warm(t.path, `${t.name}@${t.version}`)),
    prefetchPypi(pins, session),
    prefetchImages(images, options.platforms, session),
    packages.length === 0 ? undefined : prefetchApt(options.apt!, packages, session)
  ])
}
