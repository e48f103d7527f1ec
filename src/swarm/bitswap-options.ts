import type { BitswapBlockBrokerInit } from '@helia/bitswap'

/** Bitswap as the swarm runs it; each value says why it differs from the default. */
export const bitswapOptions: BitswapBlockBrokerInit = {}
