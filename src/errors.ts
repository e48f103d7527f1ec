/**
 * One class per condition, each with the HTTP status the gateway answers with.
 * Only the gateway's error handler turns these into responses (through the
 * format adapter's `renderError`); everything else throws and wraps with `{ cause }`.
 */
export abstract class DpmError extends Error {
  abstract readonly status: number
}

/** The request itself is malformed: a bad name, a traversal, an invalid digest. */
export class BadRequestError extends DpmError {
  override name = 'BadRequestError'
  override readonly status = 400
}

export class NotFoundError extends DpmError {
  override name = 'NotFoundError'
  override readonly status = 404
}

export class MethodNotAllowedError extends DpmError {
  override name = 'MethodNotAllowedError'
  override readonly status = 405
}

export class RangeNotSatisfiableError extends DpmError {
  override name = 'RangeNotSatisfiableError'
  override readonly status = 416
}

/** The upstream answered with something we cannot pass on (5xx, a malformed document). */
export class UpstreamError extends DpmError {
  override name = 'UpstreamError'
  override readonly status = 502
}

/** The upstream could not be reached at all (refused, DNS, reset). */
export class UpstreamUnreachableError extends DpmError {
  override name = 'UpstreamUnreachableError'
  override readonly status = 502
}

/** The request's deadline passed before the upstream answered. */
export class UpstreamTimeoutError extends DpmError {
  override name = 'UpstreamTimeoutError'
  override readonly status = 504
}

/** The bytes do not match the digest the upstream published for them. Nothing is stored. */
export class DigestMismatchError extends DpmError {
  override name = 'DigestMismatchError'
  override readonly status = 502
}

/** An index document is larger than the node will buffer to rewrite it. */
export class DocumentTooLargeError extends DpmError {
  override name = 'DocumentTooLargeError'
  override readonly status = 502
}

/** Abort reasons from `AbortSignal.timeout` are DOMExceptions named TimeoutError. */
export function isTimeout (err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError'
}

/** Anything unexpected: the message is generic so no internals (or stack) reach a client. */
export class InternalError extends DpmError {
  override name = 'InternalError'
  override readonly status = 500
}
