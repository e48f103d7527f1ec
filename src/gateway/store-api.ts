import type { Hono } from 'hono'
import * as v from 'valibot'
import { BadRequestError, NotFoundError } from '../errors.ts'
import type { LocalIndex } from '../index/local-index.ts'
import { mountAt, type FormatMount } from '../pull/format-mount.ts'
import type { PinnedKeys } from '../pull/pinned-keys.ts'
import type { Pins } from '../store/pins.ts'
import type { StoreKeeper } from '../store/store-keeper.ts'
import { jsonAnswer } from './json-answer.ts'

export interface StoreApiComponents {
  mounts: FormatMount[]
  index: Pick<LocalIndex, 'get'>
  pins: Pins
  pinnedKeys: PinnedKeys
  keeper: Pick<StoreKeeper, 'collect'>
}

const PinRequest = v.object({
  path: v.pipe(v.string('expected "path": a gateway path'), v.startsWith('/', 'expected a gateway path such as /npm/lodash/-/lodash-4.17.21.tgz'), v.maxLength(4096, 'the path is too long'))
})

/**
 * The store's admin endpoints. Pins are named by gateway path — what a user
 * knows — and kept by the index key the format parses it to (with the stored
 * keys its document names, `src/pull/pinned-keys.ts`):
 * `GET /-/api/pins` (each with what it keeps), `POST /-/api/pins {"path"}`, `DELETE /-/api/pins {"path"}`
 * (or `?path=`), and `POST /-/api/gc` to collect now. Mutations pass the admin guard.
 */
export function mountStoreApi (app: Hono, components: StoreApiComponents): void {
  const { pins, index } = components

  app.get('/-/api/pins', jsonAnswer(async () => {
    const listed = []
    for (const key of pins.list()) listed.push({ key, ...await keeping(key) })
    return { pins: listed }
  }))

  app.post('/-/api/pins', jsonAnswer(async (c) => {
    const key = keyOf(await pathIn(c.req.raw))
    if (await index.get(key) === undefined) throw new NotFoundError(`${key} is not cached: fetch it through the gateway first (\`dpm pin\` does)`)
    await pins.add(key)
    return { key, pinned: true, ...await keeping(key) }
  }))

  app.delete('/-/api/pins', jsonAnswer(async (c) => {
    const key = keyOf(await pathIn(c.req.raw))
    if (!await pins.remove(key)) throw new NotFoundError(`${key} is not pinned`)
    return { key, pinned: false }
  }))

  app.post('/-/api/gc', jsonAnswer(async () => await components.keeper.collect()))

  /**
   * What else a pin on `key` keeps (an image's tag: its manifests and blobs), as
   * the index holds it now: the stored keys its document names, and the absent
   * ones. A pinned key that is no longer stored is itself missing.
   */
  async function keeping (key: string): Promise<{ keeps: string[], missing: string[] }> {
    const { kept, missing } = await components.pinnedKeys.closure(async (k) => await index.get(k), [key])
    kept.delete(key)
    return { keeps: [...kept], missing: [...missing] }
  }

  /** The index key of what a gateway path names, parsed by its format as a GET of it would be. */
  function keyOf (path: string): string {
    const url = new URL(path, 'http://node.invalid')
    const mount = mountAt(components.mounts, url.pathname)
    if (mount === undefined) throw new BadRequestError(`${url.pathname} is under no format this node serves`)
    const target = mount.adapter.parse({ method: 'GET', path: path.split('?')[0]!.slice(mount.adapter.prefix.length) || '/', query: url.searchParams, headers: new Headers() }, mount.upstream)
    if (target.kind === 'local') throw new BadRequestError(`${url.pathname} is answered by the node itself: there is nothing stored to pin`)
    return target.key
  }
}

async function pathIn (request: Request): Promise<string> {
  const query = new URL(request.url).searchParams.get('path')
  let body: unknown = query === null ? undefined : { path: query }
  if (body === undefined) {
    try {
      body = await request.json()
    } catch {
      throw new BadRequestError('expected a JSON body {"path": "/<format>/..."} or ?path=')
    }
  }
  const parsed = v.safeParse(PinRequest, body)
  if (!parsed.success) throw new BadRequestError(v.summarize(parsed.issues))
  return parsed.output.path
}
