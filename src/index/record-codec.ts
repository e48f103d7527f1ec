import * as v from 'valibot'
import { IndexRecordSchema, type IndexRecord } from './index-record.ts'

/** dag-cbor has no `undefined`: absent fields are left out. */
export function withoutUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T
}

export function toPayload (record: IndexRecord): IndexRecord {
  return withoutUndefined(record)
}

/** A record as a peer sent it, or undefined when it is not one. */
export function fromPayload (payload: unknown): IndexRecord | undefined {
  const parsed = v.safeParse(IndexRecordSchema, payload)
  return parsed.success ? parsed.output : undefined
}
