// xsalsa20(nonce, key).update(input[, output]): one continuous keystream per
// cipher, XORed over successive chunks. @noble/ciphers computes the keystream
// statelessly from a 64-byte block counter, so the position is kept here.
import { xsalsa20 as xor } from '@noble/ciphers/salsa.js'

const BLOCK = 64

export default function XSalsa20 (nonce, key) {
  if (!(this instanceof XSalsa20)) return new XSalsa20(nonce, key)
  if (nonce == null || nonce.length < 24) throw new Error('nonce must be at least 24 bytes')
  if (key == null || key.length < 32) throw new Error('key must be at least 32 bytes')
  this.nonce = Uint8Array.from(nonce.subarray(0, 24))
  this.key = Uint8Array.from(key.subarray(0, 32))
  this.position = 0
}

XSalsa20.prototype.update = function (input, output) {
  if (input == null) throw new Error('input must be Uint8Array or Buffer')
  output ??= new Uint8Array(input.length)
  if (input.length === 0) return output
  const skip = this.position % BLOCK
  const counter = (this.position - skip) / BLOCK
  if (skip === 0) {
    xor(this.key, this.nonce, input, output.subarray(0, input.length), counter)
  } else {
    // mid-block: run the keystream from the block's start and drop the bytes already used
    const padded = new Uint8Array(skip + input.length)
    padded.set(input, skip)
    output.set(xor(this.key, this.nonce, padded, undefined, counter).subarray(skip))
  }
  this.position += input.length
  return output
}

XSalsa20.prototype.final = XSalsa20.prototype.finalize = function () {
  this.key.fill(0)
  this.nonce.fill(0)
}
