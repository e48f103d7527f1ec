import type { FormatAdapter } from '../../formats/index.ts'

/** An adapter as this node runs it: with the upstream its settings name. */
export interface FormatMount<Doc = any> {
  adapter: FormatAdapter<Doc>
  /** Base URL of the upstream, with a trailing slash. */
  upstream: string
}
