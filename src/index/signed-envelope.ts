import * as dagCbor from '@ipld/dag-cbor'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { equals } from 'uint8arrays/equals'

/**
 * libp2p signed envelopes (the format peer records use) with DPM's own domains,
 * so a signature made for one purpose can never be replayed as another.
 * Payloads are dag-cbor, so they can hold CID links.
 */
export interface EnvelopeKind {
  domain: string
  /** The envelope's payload type. */
  codec: Uint8Array
}

export const INDEX_RECORD: EnvelopeKind = { domain: 'dpm-index-record', codec: new TextEncoder().encode('/dpm/index-record/1') }
/** A node no longer holds a key (it evicted it): peers drop its record for that key. */
export const INDEX_WITHDRAWAL: EnvelopeKind = { domain: 'dpm-index-withdrawal', codec: new TextEncoder().encode('/dpm/index-withdrawal/1') }
export const INDEX_HEAD: EnvelopeKind = { domain: 'dpm-index-head', codec: new TextEncoder().encode('/dpm/index-head/1') }

export async function seal (kind: EnvelopeKind, payload: unknown, privateKey: PrivateKey): Promise<Uint8Array> {
  const bytes = dagCbor.encode(payload)
  const envelope = await RecordEnvelope.seal({
    domain: kind.domain,
    codec: kind.codec,
    marshal: () => bytes,
    equals: (other) => equals(other.marshal(), bytes)
  }, privateKey)
  return envelope.marshal()
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError'
}

/** Checks the signature, domain and payload type; returns the signer and the decoded payload. */
export async function open (kind: EnvelopeKind, bytes: Uint8Array): Promise<{ signer: PeerId, payload: unknown }> {
  let envelope: RecordEnvelope
  try {
    envelope = await RecordEnvelope.openAndCertify(bytes, kind.domain)
  } catch (err) {
    throw new EnvelopeError(`bad signature or envelope: ${(err as Error).message}`, { cause: err })
  }
  if (!equals(envelope.payloadType, kind.codec)) throw new EnvelopeError('wrong payload type')
  try {
    return { signer: peerIdFromPublicKey(envelope.publicKey), payload: dagCbor.decode(envelope.payload.subarray()) }
  } catch (err) {
    throw new EnvelopeError('payload is not dag-cbor', { cause: err })
  }
}
