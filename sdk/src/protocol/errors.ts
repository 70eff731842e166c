/**
 * The one error class of the protocol layer. `code` is a stable string that callers branch on;
 * the message is for people.
 */
export class CoeditError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CoeditError'
    this.code = code
  }
}

/** Thrown by decoders for input that does not follow PROTOCOL.md. Caught at one boundary. */
export const malformed = (message: string, cause?: unknown): CoeditError =>
  new CoeditError('bad-message', message, cause === undefined ? undefined : { cause })
