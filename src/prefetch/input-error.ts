/** An input file that cannot be read or is not what its kind says: bad usage, exit code 2, one line naming the file. */
export class InputError extends Error {
  constructor (file: string, problem: string) {
    super(`${file}: ${problem}`)
  }
}
