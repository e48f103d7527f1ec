import { createHash, type Hash } from 'node:crypto'
import { DigestMismatchError } from '../errors.ts'
import type { Digest } from '../index/index-record.ts'

/** Hashes bytes as they stream past and checks them against every digest the upstream published. */
export interface Verifier {
  update(chunk: Uint8Array): void
  readonly bytes: number
  /** Throws `DigestMismatchError` unless every expected digest matches; returns the verified digests. */
  verify(): Digest[]
}

export function createVerifier (expected: Digest[], label: string): Verifier {
  if (expected.length === 0) throw new DigestMismatchError(`${label}: no published digest to verify against`)
  // only what the upstream published: every extra hash costs a pass over the bytes
  const algorithms = [...new Set(expected.map((d) => d.algorithm))]
  const hashes = new Map<Digest['algorithm'], Hash>(algorithms.map((a) => [a, createHash(a)]))
  let bytes = 0

  return {
    update (chunk) {
      bytes += chunk.byteLength
      for (const hash of hashes.values()) hash.update(chunk)
    },
    get bytes () { return bytes },
    verify () {
      const computed = algorithms.map((algorithm) => ({ algorithm, hex: hashes.get(algorithm)!.digest('hex') }))
      for (const want of expected) {
        const got = computed.find((d) => d.algorithm === want.algorithm)
        if (got?.hex !== want.hex.toLowerCase()) {
          throw new DigestMismatchError(`${label}: ${want.algorithm} is ${got?.hex}, the upstream published ${want.hex}`)
        }
      }
      return computed
    }
  }
}
