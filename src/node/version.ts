import { readFileSync } from 'node:fs'

/** The version in package.json, reported by `/-/health` and sent upstream in `User-Agent`. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
