import bytes from 'bytes'
import cliProgress from 'cli-progress'
import type { ItemResult, ProgressSink } from './session.ts'

export interface Progress extends ProgressSink {
  /** Ends the bar (or the lines): call before printing the summary. */
  stop(): void
}

const size = (n: number): string => bytes.format(n, { unitSeparator: ' ' }) ?? `${n} B`

/**
 * On a terminal, one bar redrawn in place: items done of those planned so far
 * (the total grows as indexes are read) and the bytes received. Elsewhere (CI,
 * a pipe) a plain line per item ended, which a log keeps readable.
 */
export function createProgress (stream: NodeJS.WriteStream): Progress {
  let total = 0
  let done = 0
  let received = 0
  let failed = 0
  if (stream.isTTY !== true) {
    return {
      planned: () => { total++ },
      bytes: (n) => { received += n },
      done (item: ItemResult) {
        done++
        const state = item.ok ? item.cache.padEnd(5) : 'FAIL '
        stream.write(`[${done}/${total}] ${state} ${size(item.bytes).padStart(9)}  ${item.path}${item.ok ? '' : `  ${item.error ?? ''}`}\n`)
      },
      stop () {}
    }
  }

  const bar = new cliProgress.SingleBar({
    stream,
    format: 'prefetch {bar} {value}/{total} items | {received} | {failed} failed',
    hideCursor: true,
    clearOnComplete: false,
    fps: 10
  }, cliProgress.Presets.shades_classic)
  bar.start(0, 0, { received: size(0), failed: 0 })
  return {
    planned () { bar.setTotal(++total) },
    bytes (n) {
      received += n
      bar.update({ received: size(received) })
    },
    done (item) {
      if (!item.ok) failed++
      bar.increment(1, { failed })
    },
    stop () { bar.stop() }
  }
}
