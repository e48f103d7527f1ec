import parseRange from 'range-parser'
import { RangeNotSatisfiableError } from '../errors.ts'

/** Inclusive byte positions, as in `Content-Range`. */
export interface ByteRange { start: number, end: number }

/**
 * The single range a `Range` header asks for, or undefined to send the whole body
 * (no header, an unknown size, a unit other than bytes, or several ranges, which
 * a cache may answer with the full representation).
 */
export function resolveRange (header: string | undefined, size: number | undefined): ByteRange | undefined {
  if (header === undefined || size === undefined) return undefined
  const ranges = parseRange(size, header, { combine: true })
  if (ranges === -1) throw new RangeNotSatisfiableError(`range not satisfiable: ${size} bytes`)
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined
  return { start: ranges[0]!.start, end: ranges[0]!.end }
}
