import { waitFor } from './wait-for.ts'
import type { SpawnedNode } from './spawn-node.ts'

/** Spawn a node with these Node options for `openHeapProbe` to reach its heap. */
export const INSPECTABLE = ['--inspect=127.0.0.1:0']

export interface HeapProbe {
  /** A full garbage collection in the node, then the bytes its JS heap still holds. */
  collectAndMeasure(): Promise<number>
  close(): void
}

/**
 * The node's V8 inspector, asked for a full collection before the heap is read:
 * heap in use without the garbage that happens to wait for the next collection,
 * so that what grows between two reads is what the node keeps.
 */
export async function openHeapProbe (node: SpawnedNode): Promise<HeapProbe> {
  const address = await waitFor('the node\'s inspector address', () => /Debugger listening on (ws:\/\/\S+)/.exec(node.stderr())?.[1])
  const socket = new WebSocket(address)
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true })
    socket.addEventListener('error', () => { reject(new Error(`cannot reach the node's inspector at ${address}`)) }, { once: true })
  })
  const pending = new Map<number, PromiseWithResolvers<any>>()
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data))
    pending.get(message.id)?.resolve(message.result)
    pending.delete(message.id)
  })
  // a node that dies mid-call fails the call instead of leaving the test waiting
  socket.addEventListener('close', () => {
    for (const call of pending.values()) call.reject(new Error('the node\'s inspector closed'))
    pending.clear()
  })
  let nextId = 0
  const call = async (method: string): Promise<any> => {
    const id = ++nextId
    const answer = Promise.withResolvers<any>()
    pending.set(id, answer)
    socket.send(JSON.stringify({ id, method }))
    return await answer.promise
  }
  return {
    async collectAndMeasure () {
      await call('HeapProfiler.collectGarbage')
      return (await call('Runtime.getHeapUsage')).usedSize
    },
    close () { socket.close() }
  }
}
