import { DpmError, InternalError, UpstreamTimeoutError, isTimeout } from '../errors.ts'

/** Maps anything thrown while serving onto the typed errors a response can be made from. */
export function toDpmError (err: unknown): DpmError {
  if (err instanceof DpmError) return err
  if (isTimeout(err)) return new UpstreamTimeoutError('the request took too long', { cause: err })
  return new InternalError('internal error', { cause: err })
}
