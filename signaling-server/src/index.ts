/**
 * Public API of `@coedit/server`. Deliberately explicit: internals stay internal.
 */
export { createServer, type CoeditServer, type ServerAddress } from './server.js'
export {
  defaultLimits,
  defaultPersistence,
  type Limits,
  type PersistenceOptions,
  type ServerOptions,
} from './config.js'
export type { CompactionResult, MergeUpdates, Storage, StoredRoom } from './storage/storage.js'
export { createSqliteStorage } from './storage/sqlite-storage.js'
export {
  AuthError,
  createTokenVerifier,
  loadKeySet,
  type Permission,
  type TokenGrant,
  type TokenVerifier,
} from './auth/token-verifier.js'
export { generateKeyPair, parseDuration, signToken } from './auth/dev-keys.js'
