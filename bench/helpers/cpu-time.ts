import { readFile } from 'node:fs/promises'

/** Kernel clock ticks per second, as `/proc/<pid>/stat` counts them (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100

/** The fields of `/proc/<pid>/stat` after the command name, which may itself hold spaces and parentheses; the first is the state. */
async function statFields (pid: number | 'self'): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** CPU seconds a process has used so far, all its threads, in user space and in the kernel. */
export async function cpuSeconds (pid: number): Promise<{ user: number, kernel: number }> {
  const { user, kernel } = await processUsage(pid)
  return { user, kernel }
}

/** CPU seconds as `cpuSeconds` gives them, and minor page faults so far: a fresh page of memory touched is one. */
export async function processUsage (pid: number): Promise<{ user: number, kernel: number, faults: number }> {
  const fields = await statFields(pid)
  return { user: Number(fields[11]) / TICKS_PER_SECOND, kernel: Number(fields[12]) / TICKS_PER_SECOND, faults: Number(fields[7]) }
}

/** Runs `work` and adds the CPU seconds `pid` spent meanwhile to `into`. */
export async function countingCpu<T> (pid: number, into: { user: number, kernel: number }, work: () => Promise<T>): Promise<T> {
  const before = await cpuSeconds(pid)
  const result = await work()
  const after = await cpuSeconds(pid)
  into.user += after.user - before.user
  into.kernel += after.kernel - before.kernel
  return result
}

/**
 * CPU seconds of this process's children that have ended and been waited for,
 * their own children included (`cutime` and `cstime`): around one child's run,
 * while no other ends, what that child used.
 */
export async function endedChildrenCpuSeconds (): Promise<{ user: number, kernel: number }> {
  const fields = await statFields('self')
  return { user: Number(fields[13]) / TICKS_PER_SECOND, kernel: Number(fields[14]) / TICKS_PER_SECOND }
}

/**
 * Waits until `pid` has gone quiet (under 20 ms of CPU in half a second), at
 * most `maxMs`; whether it did. A server under wrk keeps working through the
 * requests still queued when wrk stops (Verdaccio for 13 s after 10 s of
 * typescript's full packument), and the system measured next must not share
 * the two cores with that.
 */
export async function quiet (pid: number, maxMs = 120_000): Promise<boolean> {
  const busy = async (): Promise<number> => { const { user, kernel } = await cpuSeconds(pid); return user + kernel }
  const until = performance.now() + maxMs
  let before = await busy()
  while (performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const now = await busy()
    if (now - before < 0.02) return true
    before = now
  }
  return false
}
