/** A repoman failure the user can act on: one line, exit 1. */
export class RepomanError extends Error {
  static override name = 'RepomanError'
  override name = 'RepomanError'
}
