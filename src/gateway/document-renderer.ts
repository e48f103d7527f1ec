import { LRUCache } from 'lru-cache'
import type { MetadataTarget, RenderContext, RenderedDocument } from '../../formats/index.ts'
import type { FormatMount } from '../pull/format-mount.ts'

/**
 * Renders stored documents (variant, rewritten links) and remembers the result,
 * as bytes, by CID and variant: a hot packument is rendered once, not on every install.
 */
export interface DocumentRenderer {
  render(mount: FormatMount, target: MetadataTarget, cid: string, doc: unknown): RenderedDocument
}

export function createDocumentRenderer (init: { baseUrl: (mount: FormatMount) => string, memoryBytes?: number }): DocumentRenderer {
  const rendered = new LRUCache<string, RenderedDocument>({
    maxSize: init.memoryBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (value) => Math.max(1, value.body.length)
  })
  return {
    render (mount, target, cid, doc) {
      const key = `${mount.adapter.name}|${cid}|${target.variant}`
      let result = rendered.get(key)
      if (result === undefined) {
        const context: RenderContext = { baseUrl: init.baseUrl(mount) }
        result = mount.adapter.renderDocument(target, doc, context)
        // encoded once here, not on every response: a hot 10 MB packument would otherwise be re-encoded to UTF-8 per request
        if (typeof result.body === 'string') result = { ...result, body: Buffer.from(result.body) }
        rendered.set(key, result)
      }
      return result
    }
  }
}
