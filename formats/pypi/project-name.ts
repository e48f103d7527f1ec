/** A project name as PEP 508 allows it: letters and digits, with `.`, `_` and `-` inside. */
const PROJECT_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i

export function isProjectName (name: string): boolean {
  return name.length <= 200 && PROJECT_NAME.test(name)
}

/** PEP 503's normal form: runs of `-`, `_` and `.` become one `-`, all lower case. */
export function normalizeProjectName (name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase()
}
