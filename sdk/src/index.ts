/**
 * `@coedit/sdk`: real-time collaboration for any editable thing on a page.
 * `createSession` is the entry point; the wire protocol is exported separately as
 * `@coedit/sdk/protocol`.
 */
export { createSession } from './session.js'
export type { Session, SessionEvents, SessionStatus } from './session.js'
export type { SessionOptions, WebrtcOptions } from './session-options.js'
export type { Cursor, Peer, User } from './awareness/presence.js'
export type { GetToken } from './auth/token-source.js'
export { fetchToken, readTokenBody } from './auth/token-endpoint.js'
export type { Fetch } from './auth/token-endpoint.js'
export type { SharedType } from './undo/undo-managers.js'
export type { BackoffOptions } from './transport/backoff.js'
export type {
  TransportError,
  TransportKind,
  TransportStatus,
} from './transport/transport-status.js'
export type { WebSocketConstructor, WebSocketLike } from './transport/websocket-like.js'
export { CoeditError } from './protocol/errors.js'
export { bindTextField } from './bindings/text-field.js'
export type { TextFieldBinding, TextFieldOptions } from './bindings/text-field.js'
export { bindQuill } from './bindings/quill.js'
export type { BindQuillOptions, QuillBindingHandle } from './bindings/quill.js'
export { bindContentEditable } from './bindings/content-editable.js'
export type {
  ContentEditableBinding,
  ContentEditableOptions,
  Format,
} from './bindings/content-editable.js'
