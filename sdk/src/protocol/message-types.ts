/**
 * Message numbers on the relay (y-websocket wire format) and Coedit's extension numbers.
 *
 * Defined once here and imported by the server and the SDK: a second copy of these numbers is a
 * protocol fork waiting to happen. Values marked "stock" are fixed by y-protocols / y-websocket and
 * must never change; see PROTOCOL.md at the repository root.
 */

/** Top-level relay message type: the first varUint of every binary frame. */
export const RelayMessageType = {
  /** stock: y-protocols sync (step 1, step 2, update). */
  sync: 0,
  /** stock: y-protocols awareness update. */
  awareness: 1,
  /** stock: y-protocols auth (server → client "permission denied"). */
  auth: 2,
  /** stock: a request for every known awareness state. */
  queryAwareness: 3,
  /**
   * Coedit extension envelope. Sent only to clients that declared the extension at connect time
   * (query parameter {@link COEDIT_QUERY_PARAM}); stock clients never see it.
   */
  coedit: 100,
} as const
export type RelayMessageType = (typeof RelayMessageType)[keyof typeof RelayMessageType]

/** Second varUint of a sync message (stock y-protocols/sync). */
export const SyncMessageType = {
  step1: 0,
  step2: 1,
  update: 2,
} as const
export type SyncMessageType = (typeof SyncMessageType)[keyof typeof SyncMessageType]

/** Second varUint of a Coedit extension message. */
export const CoeditMessageKind = {
  /** server → client, first Coedit message on a connection: the server's protocol version. */
  hello: 0,
  /** server → client after each durable flush: persisted state vector and acknowledged count. */
  saved: 1,
} as const
export type CoeditMessageKind = (typeof CoeditMessageKind)[keyof typeof CoeditMessageKind]

/**
 * Version of Coedit's own protocol extensions (not of the stock y-websocket protocol).
 * A client declaring another major version is closed with `upgrade-required`; minor versions
 * only add message kinds that older peers ignore.
 */
export const COEDIT_PROTOCOL_VERSION = { major: 1, minor: 0 } as const

/** Query parameter by which a relay client declares the Coedit extension major version it speaks. */
export const COEDIT_QUERY_PARAM = 'coedit'

/** Query parameter carrying an access token (stock clients can only pass tokens in the URL). */
export const TOKEN_QUERY_PARAM = 'token'

/**
 * WebSocket subprotocols. Browsers require the server to select one of the offered protocols, so a
 * client offering a token also offers {@link SUBPROTOCOL}, which the server selects; the token
 * itself travels as `coedit-token.<jwt>` and is never echoed back.
 */
export const SUBPROTOCOL = 'coedit'
export const TOKEN_SUBPROTOCOL_PREFIX = 'coedit-token.'

/** Path prefixes served by the Coedit server. */
export const RELAY_PATH = '/relay'
export const SIGNAL_PATH = '/signal'
