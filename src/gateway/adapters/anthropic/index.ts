import type { ProtocolAdapter } from '../../protocol/types.js';
import { buildAnthropicUpstreamRequest } from './build-upstream-request.js';
import { createAnthropicStreamDecoder } from './decode-stream.js';
import { decodeAnthropicResponse } from './decode-upstream.js';
import { createAnthropicStreamEncoder } from './encode-stream.js';
import { encodeAnthropicResponse } from './encode-response.js';
import { decodeAnthropicError, encodeAnthropicError } from './errors.js';
import { parseAnthropicRequest } from './parse-request.js';

export const anthropicMessagesAdapter: ProtocolAdapter = {
  protocol: 'anthropic-messages',
  parseRequest: parseAnthropicRequest,
  encodeResponse: encodeAnthropicResponse,
  createStreamEncoder: createAnthropicStreamEncoder,
  encodeError: encodeAnthropicError,
  buildUpstreamRequest: buildAnthropicUpstreamRequest,
  decodeUpstreamResponse: decodeAnthropicResponse,
  createStreamDecoder: createAnthropicStreamDecoder,
  decodeUpstreamError: decodeAnthropicError,
};
