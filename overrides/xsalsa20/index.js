// xsalsa20(nonce, key).update(input[, output]): one continuous keystream per
// cipher, XORed over successive chunks — libsodium's crypto_stream_xor state,
// native code: every byte between swarm members passes through here twice (once
// per side), and a JavaScript salsa20 cost more CPU than the rest of a transfer.
import sodium from 'sodium-native'

export default function XSalsa20 (nonce, key) {
  if (!(this instanceof XSalsa20)) return new XSalsa20(nonce, key)
  if (nonce == null || nonce.length < 24) throw new Error('nonce must be at least 24 bytes')
  if (key == null || key.length < 32) throw new Error('key must be at least 32 bytes')
  this.state = Buffer.alloc(sodium.crypto_stream_xor_STATEBYTES)
  sodium.crypto_stream_xor_init(this.state, nonce.subarray(0, 24), key.subarray(0, 32))
}

XSalsa20.prototype.update = function (input, output) {
  if (input == null) throw new Error('input must be Uint8Array or Buffer')
  output ??= new Uint8Array(input.length)
  if (input.length > 0) sodium.crypto_stream_xor_update(this.state, output.subarray(0, input.length), input)
  return output
}

XSalsa20.prototype.final = XSalsa20.prototype.finalize = function () {
  sodium.crypto_stream_xor_final(this.state)
}
