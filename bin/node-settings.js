// What a node's process runs with, shared by `bin/dpm.js` and everything that
// starts a node as its own process. Each says why.

export const V8_FLAGS = [
  // V8 grows the young generation to two 64 MiB semi-spaces while libp2p and
  // Helia load and keeps them: an idle node holds ~226 MB. Streaming needs little
  // young space; with 4 MiB an idle node held ~172 MB, and bench/serve and
  // bench/swarm ran faster, not slower (cache hits 521 → 661 MiB/s). A cold
  // install's requests promote more short-lived objects at 4 MiB than at 8
  // (with 8 the node spent 0.85–0.90× the CPU on their packuments), but with 6
  // or 8 MiB a node moved 1 GiB over Bitswap at 31–32 MiB/s, against 47 with 4,
  // and its seeder peaked above 300 MB (bench/swarm; bench/cold-cpu runs a node
  // with 8 MiB beside one with these settings).
  '--max-semi-space-size=4'
]

/**
 * glibc's malloc tunables, read once when the process starts. Fetched documents
 * and chunks are buffers that V8 frees only at its next collection, so malloc
 * keeps taking fresh memory for them, and every fresh 4 KiB page is a fault
 * (~10 µs on a VM). With transparent huge pages for its larger chunks (the
 * kernel's THP mode `madvise` or `always`), a cold install's packuments fault
 * ~13,000 pages instead of ~53,000 (bench/cold-cpu runs a node without the
 * tunables beside one with them). With the 4 MiB young generation above, that
 * saves the node CPU too: 0.83× on the packuments, 0.91× on the tarballs in its
 * last run (with 8 MiB, fewer buffers outlived a young collection and it saved
 * none). An idle node's memory is unchanged.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1'

/** `env` with MALLOC_TUNABLES added to any tunables it already sets. */
export function withMallocTunables (env) {
  const own = env.GLIBC_TUNABLES
  if (own?.split(':').includes(MALLOC_TUNABLES)) return env
  return { ...env, GLIBC_TUNABLES: own ? `${own}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES }
}
