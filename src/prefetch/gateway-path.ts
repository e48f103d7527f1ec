/** One path segment as a client would send it: percent-encoded, but a scope's leading `@` kept as npm writes it. */
export function segment (value: string): string {
  return encodeURIComponent(value).replace(/^%40/, '@')
}

/** Segments joined under a prefix: `/npm` + [`@types`, `node`] → `/npm/@types/node`. */
export function gatewayPath (prefix: string, segments: string[]): string {
  return `${prefix}/${segments.map(segment).join('/')}`
}
