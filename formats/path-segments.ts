/** A request path's segments below the prefix, percent-decoded; `undefined` when an escape is malformed. */
export function decodeSegments (path: string): string[] | undefined {
  try {
    return path.split('/').slice(1).map(decodeURIComponent)
  } catch {
    return undefined
  }
}

/** A decoded segment that could step out of where it is put: `.`, `..`, or one holding a slash, a backslash or a NUL. */
export function isUnsafeSegment (segment: string): boolean {
  return segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\\') || segment.includes('\0')
}

/** Decoded segments as an upstream is asked for them: each encoded, so a `+` goes out as `%2B` (S3-backed mirrors read `+` as a space). */
export function encodeSegments (segments: string[]): string {
  return segments.map(encodeURIComponent).join('/')
}
