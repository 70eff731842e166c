/**
 * Structured JSON logs (pino). Tokens must never reach a log line: request URLs are never logged
 * (stock clients put tokens in the query string), and known secret fields are redacted as a
 * second line of defence.
 */
import { pino, type Logger } from 'pino'

export const createLogger = (level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger =>
  pino({
    level,
    base: { service: 'coedit-server' },
    redact: {
      paths: ['token', '*.token', 'headers.authorization', 'headers["sec-websocket-protocol"]'],
      censor: '[redacted]',
    },
  })

export const silentLogger = (): Logger => pino({ level: 'silent' })
