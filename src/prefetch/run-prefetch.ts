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

/** Every input at once, all through the session's one limiter; resolves when the last item has ended. */
export async function runPrefetch (inputs: PrefetchInput[], options: PrefetchOptions, session: Session): Promise<void> {
  await Promise.all(inputs.map(async (input) => {
    switch (input.kind) {
      case 'npm': await Promise.all(input.tarballs.map(async (t) => await session.warm(t.path, `${t.name}@${t.version}`))); return
      case 'pypi': await prefetchPypi(input.pins, session); return
      case 'oci': await prefetchImages(input.images, options.platforms, session); return
      case 'apt': {
        if (options.apt === undefined) throw new Error('an apt list needs an apt source')
        await prefetchApt(options.apt, input.packages, session)
      }
    }
  }))
}
