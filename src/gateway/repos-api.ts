import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import type { Catalog } from '../catalog/catalog.ts'
import { BadRequestError } from '../errors.ts'
import { jsonAnswer } from './json-answer.ts'

export interface ReposApiComponents {
  catalog: Pick<Catalog, 'list' | 'add' | 'remove' | 'update'>
}

const names = (what: string) => v.optional(v.pipe(
  v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._~+-]{0,99}$/, `each of "${what}" must be a plain word such as ${what === 'suites' ? 'bookworm' : what === 'components' ? 'main' : 'amd64'}`)), `expected "${what}": an array of strings`),
  v.maxLength(32, `at most 32 ${what}`)
))

const AddRequest = v.object({
  url: v.pipe(v.string('expected "url": the repository\'s URL'), v.minLength(1, 'expected "url": the repository\'s URL'), v.maxLength(2048, 'the URL is too long')),
  format: v.optional(v.pipe(v.string('expected "format" to be a string'), v.maxLength(50, 'unknown format'))),
  name: v.optional(v.pipe(v.string('expected "name" to be a string'), v.maxLength(200, 'the name is too long'))),
  update: v.optional(v.boolean('expected "update" to be true or false')),
  suites: names('suites'),
  components: names('components'),
  architectures: names('architectures')
})

const UpdateRequest = v.object({
  names: v.optional(v.pipe(v.array(v.string('expected "names": an array of repository names'), 'expected "names": an array of repository names'), v.maxLength(1000)))
})

/**
 * The catalog's admin endpoints (`DPM_ADMIN_TOKEN`, or loopback without one,
 * guards the mutations): `GET /-/api/repos`; `POST /-/api/repos` `{url, format?,
 * name?, update?, suites?, components?, architectures?}` registers a repository
 * and pulls its listing (201); `DELETE /-/api/repos/<name>`; `POST
 * /-/api/repos/update` `{names?}` re-pulls listings, answering per repository.
 */
export function mountReposApi (app: Hono, components: ReposApiComponents): void {
  const { catalog } = components
  app.get('/-/api/repos', answer(async () => ({ repositories: await catalog.list() })))
  app.post('/-/api/repos', answer(async (c) => {
    const request = parse(AddRequest, await jsonBody(c, true))
    return await catalog.add(request)
  }, 201))
  app.post('/-/api/repos/update', answer(async (c) => {
    const { names } = parse(UpdateRequest, await jsonBody(c, false) ?? {})
    return { results: await catalog.update(names) }
  }))
  app.delete('/-/api/repos/:name', answer(async (c) => ({ removed: await catalog.remove(c.req.param('name') ?? '') })))
}

const answer = (handle: (c: Context) => Promise<unknown>, status = 200) => jsonAnswer(handle, { status, headers: { 'cache-control': 'no-store' } })

async function jsonBody (c: Context, required: boolean): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (required) throw new BadRequestError('expected a JSON body such as {"url": "http://host/repo/"}')
    return undefined
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError('the body is not JSON')
  }
}

/** The body against a valibot object schema: an object, with no field the schema does not know and none it needs missing. */
function parse<T extends v.ObjectSchema<v.ObjectEntries, undefined>> (schema: T, body: unknown): v.InferOutput<T> {
  const fields = Object.keys(schema.entries)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError(`expected a JSON object with ${fields.map((f) => `"${f}"`).join(', ')}`)
  const unknown = Object.keys(body).find((key) => !fields.includes(key))
  if (unknown !== undefined) throw new BadRequestError(`unknown field "${unknown.slice(0, 50)}": expected ${fields.map((f) => `"${f}"`).join(', ')}`)
  const missing = fields.find((f) => schema.entries[f]!.type !== 'optional' && !(f in body))
  if (missing !== undefined) throw new BadRequestError(`expected "${missing}"`)
  const parsed = v.safeParse(schema, body)
  if (!parsed.success) throw new BadRequestError(v.summarize(parsed.issues).split('\n')[0]!.replace(/^× /, ''))
  return parsed.output
}
