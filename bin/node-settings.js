// What a node's process runs with, shared by `bin/dpm.js` and everything that
// starts a node as its own process. Each says why.

export const V8_FLAGS = [
  // V8 grows the young generation to two 64 MiB semi-spaces while libp2p and
  // Helia load and keeps them: an idle node holds ~226 MB. Streaming needs little
  // young space; with 4 MiB an idle node held ~172 MB, and bench/serve and
  // bench/swarm ran faster, not slower (cache hits 521 → 661 MiB/s). A cold
  // install's requests, though, make enough short-lived objects that 4 MiB
  // promoted many to the old generation: with 8 MiB the node spends 0.85–0.90×
  // the CPU on their packuments and 0.87–0.97× on their tarballs (bench/cold-cpu
  // runs a node with 4 MiB beside one with these settings), for ~8 MB more at idle.
  '--max-semi-space-size=8'
]

/**
 * glibc's malloc tunables, read once when the process starts. Fetched documents
 * and chunks are buffers that V8 frees only at its next collection, so malloc
 * keeps taking fresh memory for them, and every fresh 4 KiB page is a fault
 * (~10 µs on a VM). With transparent huge pages for its larger chunks (the
 * kernel's THP mode `madvise` or `always`), a cold install's packuments fault
 * ~13,000 pages instead of ~53,000 (bench/cold-cpu runs a node without the
 * tunables beside one with them). With the 4 MiB young generation that saved
 * the node ~0.3 s of CPU; with 8 MiB, fewer buffers outlive a young collection
 * and the CPU is the same either way. An idle node's memory is unchanged.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1'

/** `env` with MALLOC_TUNABLES added to any tunables it already sets. */
export function withMallocTunables (env) {
  const own = env.GLIBC_TUNABLES
  if (own?.split(':').includes(MALLOC_TUNABLES)) return env
  return { ...env, GLIBC_TUNABLES: own ? `${own}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES }
}
