// The V8 flags a node runs with, shared by `bin/dpm.js` and everything that
// starts a node as its own process. Each says why.
export const V8_FLAGS = [
  // V8 grows the young generation while libp2p and Helia load and never gives it
  // back: two 64 MiB semi-spaces, ~90 MB of a 220 MB idle node. Streaming needs
  // little young space; 4 MiB leaves a node idling at ~130 MB and moves bytes no
  // slower (measured with bench/serve and bench/swarm).
  '--max-semi-space-size=4'
]
