// The part of sodium-native's API this project calls (the package ships no types,
// and @types/sodium-native predates the IETF ChaCha20-Poly1305 functions).
declare module 'sodium-native' {
  const sodium: {
    crypto_aead_chacha20poly1305_ietf_ABYTES: number
    crypto_aead_chacha20poly1305_ietf_encrypt(ciphertext: Uint8Array, message: Uint8Array, ad: Uint8Array | null, nsec: null, nonce: Uint8Array, key: Uint8Array): number
    /** Throws when the tag does not authenticate. `message` may be `ciphertext` itself. */
    crypto_aead_chacha20poly1305_ietf_decrypt_detached(message: Uint8Array, nsec: null, ciphertext: Uint8Array, mac: Uint8Array, ad: Uint8Array | null, nonce: Uint8Array, key: Uint8Array): void
  }
  export default sodium
}
