export interface XSalsa20Stream {
  update(input: Uint8Array, output?: Uint8Array): Uint8Array
  finalize(): void
}
declare const XSalsa20: (nonce: Uint8Array, key: Uint8Array) => XSalsa20Stream
export default XSalsa20
