/**
 * Coedit's wire protocol, shared by the server and the SDK: message numbers, close codes,
 * encoders and decoders. No DOM, no Node APIs, no imports from the rest of the SDK.
 * PROTOCOL.md at the repository root is the specification this module implements.
 */
export {
  COEDIT_PROTOCOL_VERSION,
  COEDIT_QUERY_PARAM,
  CoeditMessageKind,
  RELAY_PATH,
  RelayMessageType,
  SIGNAL_PATH,
  SUBPROTOCOL,
  SyncMessageType,
  TOKEN_QUERY_PARAM,
  TOKEN_SUBPROTOCOL_PREFIX,
} from './message-types.js'
export { CloseCode, closeReasonOf, isPermanentClose, type CloseReason } from './close-codes.js'
export { CoeditError, malformed } from './errors.js'
export {
  decodeAwarenessUpdate,
  encodeAwarenessUpdate,
  type AwarenessEntry,
} from './awareness-update.js'
export {
  decodeRelayFrame,
  encodeAuthDenied,
  encodeAwarenessFrame,
  encodeCoeditHello,
  encodeCoeditSaved,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  isDocumentWrite,
  type RelayMessage,
} from './relay-messages.js'
export {
  MAX_TOPIC_LENGTH,
  SIGNALING_PONG,
  encodeSignalingPublication,
  parseSignalingMessage,
  type SignalingClientMessage,
  type SignalingPong,
  type SignalingPublication,
} from './signaling-messages.js'
export { isCoveredBy, type StateVector, decodeStateVectorMap } from './state-vector.js'
