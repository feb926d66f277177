export {
  exitStatus,
  newSessionId,
  prepareSession,
  reclaimRunFolders,
  type PreparedSession,
  type SessionEgress,
  type SessionExit,
  type SessionOptions,
  type SessionParts,
  type SessionTokenIssuer,
} from './lifecycle.js';
export {
  describeLimitValue,
  limitDefaults,
  limitSettingsOfConfig,
  resolveSessionLimits,
  unenforcedNotice,
  type LimitDefault,
  type LimitSettings,
} from './session-limits.js';
export { spawnWithPipes, spawnWithPty, type SpawnedSandbox } from './spawn.js';
export {
  createSessionManager,
  type LiveSession,
  type NewSession,
  type SessionEvent,
  type SessionFiles,
  type SessionManager,
  type SessionManagerOptions,
  type SpawnTerminal,
} from './manager.js';
export {
  defaultAgentPresets,
  mergeAgentPresets,
  resolvePreset,
  type AgentPreset,
  type ConfiguredAgent,
} from './manager-presets.js';
export type { WorkspaceSource } from './manager-workspace.js';
export {
  createPtyHost,
  defaultFlowControl,
  type FlowControlLimits,
  type PtyHost,
  type TerminalProcess,
  type TerminalServerMessage,
  type TerminalViewer,
  type ViewerHandle,
} from './pty-host.js';
export {
  asciicastEvent,
  asciicastHeader,
  createTerminalRecording,
  type TerminalRecording,
} from './recording.js';
export { createHeadlessTerminal, type HeadlessTerminal } from './terminal.js';
