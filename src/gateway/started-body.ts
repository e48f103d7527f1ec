/**
 * Reads a body's first chunk before the response is begun, so a body that
 * cannot start (a block gone from the store) fails while an error status can
 * still be sent, rather than as a connection cut before any header. The stream
 * returned yields that chunk, then the rest, the same chunk objects (a lent
 * buffer is still recognised when it is released).
 */
export async function startedBody (body: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader()
  let first: Awaited<ReturnType<typeof reader.read>> | undefined
  try {
    first = await reader.read()
  } catch (err) {
    reader.releaseLock()
    throw err
  }
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      const { done, value } = first ?? await reader.read()
      first = undefined
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: async (reason) => { await reader.cancel(reason) }
  }, { highWaterMark: 0 })
}
