// The V8 flags a node runs with, shared by `bin/dpm.js` and everything that
// starts a node as its own process. Each says why.
export const V8_FLAGS = [
  // V8 grows the young generation to two 64 MiB semi-spaces while libp2p and
  // Helia load and keeps them: an idle node holds ~226 MB. Streaming needs little
  // young space; with 4 MiB an idle node holds ~172 MB, and bench/serve and
  // bench/swarm run faster, not slower (cache hits 521 → 661 MiB/s).
  '--max-semi-space-size=4'
]
