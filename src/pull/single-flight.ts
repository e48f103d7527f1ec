/**
 * Runs one piece of work per key at a time; every caller with the same key shares
 * its result. The work gets a signal that aborts only when every caller has left,
 * so one client disconnecting never cancels what others are waiting for.
 */
export interface SingleFlight<T> {
  run(key: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T>
  readonly size: number
}

interface Flight<T> {
  promise: Promise<T>
  controller: AbortController
  waiters: number
}

/** `onJoin` hears of each caller that found its key's work under way and shared it. */
export function createSingleFlight<T> (init: { onJoin?(): void } = {}): SingleFlight<T> {
  const flights = new Map<string, Flight<T>>()

  return {
    get size () { return flights.size },

    run (key, signal, work) {
      signal.throwIfAborted()
      let flight = flights.get(key)
      if (flight === undefined) {
        const controller = new AbortController()
        const created: Flight<T> = { controller, waiters: 0, promise: Promise.resolve().then(() => work(controller.signal)) }
        created.promise.then(forget, forget)
        function forget (): void { if (flights.get(key) === created) flights.delete(key) }
        flights.set(key, created)
        flight = created
      } else {
        init.onJoin?.()
      }
      const joined = flight
      joined.waiters++
      return new Promise<T>((resolve, reject) => {
        const leave = (): void => {
          if (--joined.waiters === 0) joined.controller.abort(signal.reason)
          reject(signal.reason)
        }
        signal.addEventListener('abort', leave, { once: true })
        joined.promise.then(
          (value) => { signal.removeEventListener('abort', leave); joined.waiters--; resolve(value) },
          (err) => { signal.removeEventListener('abort', leave); joined.waiters--; reject(err) }
        )
      })
    }
  }
}
