/** Connection state of one transport, as the session reports it per transport. */
export type TransportStatus = 'connecting' | 'connected' | 'offline' | 'disabled'

/** The paths a peer's edits can take to this session. */
export type TransportKind = 'webrtc' | 'relay'

/** A problem a transport reports; `code` is stable (close reasons like `unauthorized`, …). */
export interface TransportError {
  readonly code: string
  readonly message: string
  readonly transport: TransportKind | 'offline-store' | 'session'
}
