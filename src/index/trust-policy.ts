/**
 * Whose signed records this node accepts: the peers in `DPM_TRUSTED_PEERS`, or,
 * when that is empty, every member of the swarm (anyone who holds the swarm key).
 */
export type TrustPolicy = (peerId: string) => boolean

export function createTrustPolicy (trustedPeers: string[]): TrustPolicy {
  if (trustedPeers.length === 0) return () => true
  const trusted = new Set(trustedPeers)
  return (peerId) => trusted.has(peerId)
}
