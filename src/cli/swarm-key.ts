import { generateKey } from '@libp2p/pnet'

/** `dpm swarm-key generate`: a new pre-shared key in the kubo `swarm.key` format, on stdout. */
export async function runSwarmKey (args: string[]): Promise<number> {
  if (args[0] !== 'generate' || args.length !== 1) {
    process.stderr.write('usage: dpm swarm-key generate > swarm.key\n')
    return 2
  }
  const key = new Uint8Array(95)
  generateKey(key)
  process.stdout.write(Buffer.from(key).toString('utf8').trimEnd() + '\n')
  return 0
}
