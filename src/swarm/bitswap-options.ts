import type { BitswapBlockBrokerInit } from '@helia/bitswap'

/**
 * Bitswap as the swarm runs it; each value says why it differs from the default.
 * The want window itself lives in the reader (`NETWORK_READ_AHEAD_BLOCKS` in
 * `store/content-store.ts`): 4 leaves of 1 MiB in flight per transfer.
 */
export const bitswapOptions: BitswapBlockBrokerInit = {
  // The defaults wait 10 ms to batch wants and blocks. A transfer here keeps a
  // full window of wants anyway, so each wait is pure latency on every round
  // trip; 1 ms still gathers what arrives in the same tick.
  sendWantlistDebounce: 1,
  sendBlocksDebounce: 1,
  // A message merges every block a peer is owed; under load, a few MiB can take
  // longer than the default 10 s to drain, and a send that times out is dropped
  // (its blocks counted as sent). Give it time; receivers renew wants anyway.
  messageSendTimeout: 60_000,
  // Four 1 MiB leaves per message (the default), stated because the block size
  // depends on it: a leaf must fit in a message with room to spare.
  maxOutgoingMessageSize: 4 * 1024 * 1024,
  maxIncomingMessageSize: 4 * 1024 * 1024
}
