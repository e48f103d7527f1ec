import ssri from 'ssri'
import type { Digest } from '../index.ts'

const SUPPORTED = new Set(['sha1', 'sha256', 'sha512'])

/** The digests a packument version publishes: every supported hash in `dist.integrity`, plus `dist.shasum`. */
export function publishedDigests (dist: { integrity?: string, shasum?: string }): Digest[] {
  const digests: Digest[] = []
  if (dist.integrity) {
    const parsed = ssri.parse(dist.integrity, { single: false }) as ssri.Integrity
    for (const [algorithm, hashes] of Object.entries(parsed)) {
      if (!SUPPORTED.has(algorithm)) continue
      for (const hash of hashes as ssri.Hash[]) {
        digests.push({ algorithm: algorithm as Digest['algorithm'], hex: Buffer.from(hash.digest, 'base64').toString('hex') })
      }
    }
  }
  if (dist.shasum && /^[0-9a-f]{40}$/i.test(dist.shasum) && !digests.some((d) => d.algorithm === 'sha1')) {
    digests.push({ algorithm: 'sha1', hex: dist.shasum.toLowerCase() })
  }
  return digests
}
