/**
 * WebSocket close codes used by Coedit, defined once for server and SDK.
 *
 * Stock y-websocket ≥ 3.1 treats 4400–4499 as permanent (it stops reconnecting) and every other
 * code as transient, so the ranges below carry meaning: 44xx means "reconnecting cannot fix
 * this", 45xx means "try again later". The last two digits mirror the nearest HTTP status.
 */
export const CloseCode = {
  /** Server shutting down or restarting: reconnect (with jitter). RFC 6455 "Service Restart". */
  restart: 1012,
  /** A frame exceeded the server's size limit. RFC 6455 "Message Too Big" (sent by `ws`). */
  frameTooLarge: 1009,
  /** A frame or message could not be decoded or violated the protocol. */
  badMessage: 4400,
  /** Missing, malformed, expired or unverifiable token. */
  unauthorized: 4401,
  /** Valid token, but not for this room or this operation. */
  forbidden: 4403,
  /** The room's document would exceed the server's size limit. */
  documentTooLarge: 4413,
  /** The client declared a Coedit protocol major version the server does not speak. */
  upgradeRequired: 4426,
  /** More signaling topics than the server allows on one connection. */
  tooManyTopics: 4431,
  /** The room could not be loaded from storage right now; reconnect later. */
  unavailable: 4503,
  /** The connection's send buffer passed its cap (a slow consumer); reconnect and resync later. */
  slowConsumer: 4508,
  /** The connection exceeded its message or byte rate; reconnect later. */
  rateLimited: 4529,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]
export type CloseReason = keyof typeof CloseCode

const reasonByCode = new Map<number, CloseReason>(
  (Object.entries(CloseCode) as [CloseReason, number][]).map(([reason, code]) => [code, reason]),
)

/** The stable name of a close code (`'unauthorized'` for 4401), or `undefined` if not ours. */
export const closeReasonOf = (code: number): CloseReason | undefined => reasonByCode.get(code)

/**
 * Whether a client should stop reconnecting after this close code (the same rule stock
 * y-websocket applies: 4400–4499 are permanent).
 */
export const isPermanentClose = (code: number): boolean => code >= 4400 && code < 4500
