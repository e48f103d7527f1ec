/**
 * A request's signal: the client going away, or the deadline for producing a
 * response passing, whichever is first. Passed down to every upstream fetch and
 * wait the request makes; it never cancels work that other requests share.
 *
 * The deadline is a timer the request clears when its response has started.
 * `AbortSignal.timeout` cannot be cleared: its timer and signal stay in memory
 * until it fires, and at thousands of cache hits a second a two-minute deadline
 * held hundreds of thousands of them (measured: RSS 186 → 359 MiB over
 * 290,000 hits, still climbing).
 */
export interface RequestSignal extends Disposable {
  signal: AbortSignal
}

export function requestSignal (clientSignal: AbortSignal, deadlineMs: number): RequestSignal {
  const deadline = new AbortController()
  const timer = setTimeout(() => { deadline.abort(new DOMException(`no response within ${deadlineMs} ms`, 'TimeoutError')) }, deadlineMs)
  timer.unref()
  return {
    signal: AbortSignal.any([clientSignal, deadline.signal]),
    [Symbol.dispose] () { clearTimeout(timer) }
  }
}
