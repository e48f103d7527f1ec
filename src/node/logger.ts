import { pino, type Logger } from 'pino'

/** JSON lines on stdout, one per event; the level comes from `DPM_LOG_LEVEL`. */
export function createLogger (level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination)
}
