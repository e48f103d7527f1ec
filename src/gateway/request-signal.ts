/**
 * A request's signal: the client going away, or the deadline for producing a
 * response passing, whichever is first. Passed down to every upstream fetch and
 * wait the request makes; it never cancels work that other requests share.
 */
export function requestSignal (clientSignal: AbortSignal, deadlineMs: number): AbortSignal {
  return AbortSignal.any([clientSignal, AbortSignal.timeout(deadlineMs)])
}
