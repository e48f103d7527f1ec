import { pino, type Logger } from 'pino'

/**
 * JSON lines on stdout, one per event; the level comes from `DPM_LOG_LEVEL`.
 * Written behind the serving thread's back: Node writes to a pipe synchronously,
 * so a line per request cost each request a blocking write — and a full pipe
 * (a log reader that lags) would stall every request. Lines written meanwhile go
 * out together, and what is still buffered is written out when the process exits.
 */
export function createLogger (level: string, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination)
}
