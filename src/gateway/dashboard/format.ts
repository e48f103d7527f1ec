import bytes from 'bytes'
import type { html } from 'hono/html'

/** What `html` gives back: escaped markup, possibly still resolving. */
export type Html = ReturnType<typeof html>

export const size = (n: number): string => bytes.format(n, { unitSeparator: ' ', decimalPlaces: 1 }) ?? `${n} B`
export const percent = (ratio: number | null): string => ratio === null ? '–' : `${(ratio * 100).toFixed(1)}%`
export const clock = (at: number): string => new Date(at).toISOString().slice(11, 19)
export const dateTime = (at: number): string => new Date(at).toISOString().slice(0, 19).replace('T', ' ')
