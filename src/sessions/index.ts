export {
  exitStatus,
  newSessionId,
  prepareSession,
  type PreparedSession,
  type SessionExit,
  type SessionOptions,
  type SessionParts,
  type SessionTokenIssuer,
} from './lifecycle.js';
export { spawnWithPipes, spawnWithPty, type SpawnedSandbox } from './spawn.js';
