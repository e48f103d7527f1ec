import type { FormatMount } from '../../formats/index.ts'

export type { FormatMount } from '../../formats/index.ts'

/** The mount whose prefix `path` is, or lies under; `undefined` for the node's own paths. */
export function mountAt<M extends FormatMount> (mounts: readonly M[], path: string): M | undefined {
  return mounts.find(({ adapter }) => path === adapter.prefix || path.startsWith(`${adapter.prefix}/`))
}
