import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `check` until it returns something truthy, or fails after `ms` with `what`. */
export async function waitFor<T> (what: string, check: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms
  while (true) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(100)
  }
}

/** `promise`, or a failure naming `what` (worked out then, if a function) once `ms` have passed. */
export async function within<T> (ms: number, what: string | (() => string), promise: Promise<T>): Promise<T> {
  const late = sleep(ms, undefined, { ref: false }).then(() => { throw new Error(`${typeof what === 'string' ? what : what()}: nothing after ${ms} ms`) })
  return await Promise.race([promise, late])
}

/** Fetches a node's `/-/health`. */
export async function health (url: string): Promise<{ peerId: string, multiaddrs: string[], peers: number, swarm: boolean }> {
  return await (await fetch(`${url}/-/health`)).json() as never
}
