/** The neutral model and the protocol-independent helpers the gateway's routes use. */
export type * from './types.js';
export {
  GatewayError,
  isGatewayError,
  invalidRequest,
  badUpstreamBody,
  toErrorInfo,
  kindForStatus,
  statusForKind,
} from './errors.js';
export { createSseParser, formatSseEvent } from './sse.js';
export { estimateTokens, estimateTextTokens } from './estimate-tokens.js';
export {
  createToolNameMap,
  createRequestToolNameMap,
  shortenToolName,
  toolNamesOf,
  identityToolNames,
  TOOL_NAME_LIMIT,
} from './tool-names.js';
