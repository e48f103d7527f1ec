/**
 * Bytes a document parser may read past a document's end (simdjson's
 * SIMDJSON_PADDING): with them there, `native/packument.cc` parses the bytes
 * where they lie instead of copying each packument into a padded buffer first.
 */
const PARSER_PADDING = 64

/** `Buffer.concat(chunks, size)`, with `PARSER_PADDING` spare bytes after the view's end. */
export function concatPadded (chunks: Uint8Array[], size: number): Buffer {
  const whole = Buffer.allocUnsafeSlow(size + PARSER_PADDING)
  let at = 0
  for (const chunk of chunks) {
    whole.set(chunk, at)
    at += chunk.byteLength
  }
  return whole.subarray(0, size)
}
