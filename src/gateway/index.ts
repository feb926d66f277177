export {
  loadGatewayConfig,
  parseGatewayConfig,
  pickGatewayKeys,
  type GatewayConfig,
  type ModelEntry,
} from './config.js';
export {
  combineVerifiers,
  createMasterKeyVerifier,
  createSessionTokens,
  createStoredTokenVerifier,
  hashSecret,
  issueStoredToken,
  type Caller,
  type IssuedToken,
  type SessionTokens,
  type StoredTokenLookup,
  type StoredTokenWriter,
  type TokenVerifier,
} from './keys.js';
export { providers, type ProviderSpec } from './providers.js';
export type { RouterOptions } from './router.js';
export {
  createGateway,
  type Gateway,
  type GatewayHandler,
  type GatewayOptions,
  type GatewaySession,
} from './server.js';
export type { UsageRecord, UsageSink } from './usage.js';
