import type { CacheStatus } from '../../formats/index.ts'
import type { Metrics } from '../node/metrics.ts'

/** Where a response's bytes came from, by its X-Cache: this node's store (HIT, STALE), a swarm peer, the upstream. */
export function servedSource (cache: CacheStatus): 'local' | 'peer' | 'upstream' {
  if (cache === 'PEER') return 'peer'
  if (cache === 'MISS') return 'upstream'
  return 'local'
}

/** Counts one response's body bytes under its format and source; nothing without metrics. */
export function servedBytes (metrics: Pick<Metrics, 'servedBytes'> | undefined, format: string, cache: CacheStatus): (bytes: number) => void {
  if (metrics === undefined) return () => {}
  // the labelled child once per response, not a label lookup per chunk
  const counter = metrics.servedBytes.labels({ format, source: servedSource(cache) })
  return (bytes) => { counter.inc(bytes) }
}

/** `body`, each chunk counted as the writer takes it. */
export function countedBody (body: ReadableStream<Uint8Array>, count: (bytes: number) => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform (chunk, controller) {
      count(chunk.byteLength)
      controller.enqueue(chunk)
    }
  }))
}
