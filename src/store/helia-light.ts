import type { Helia, HeliaInit } from 'helia'

/**
 * What `createHeliaLight` does, loaded from the two files it needs rather than
 * the package's index: that index imports `createHelia`'s whole default stack
 * (libp2p with its transports and services, HTTP gateways, Bitswap), ~40 MiB
 * resident that a node without a swarm never uses. A swarm node loads libp2p
 * itself (`open-helia.ts`). Helia's `exports` name only the index, so the files
 * are found beside it.
 */
export async function createHeliaLight (init: HeliaInit): Promise<Helia> {
  const dist = new URL('.', import.meta.resolve('helia'))
  const [{ Helia: HeliaClass }, { name, version }] = await Promise.all([
    import(new URL('helia.js', dist).href) as Promise<{ Helia: new (init: HeliaInit & { name: string, version: string }) => Helia }>,
    import(new URL('version.js', dist).href) as Promise<{ name: string, version: string }>
  ])
  return new HeliaClass({ name, version, ...init })
}
