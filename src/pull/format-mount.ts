export type { FormatMount } from '../../formats/index.ts'
