import type { ProtocolAdapter } from '../../protocol/types.js';
import { buildOpenAiChatUpstreamRequest } from './build-upstream-request.js';
import { createOpenAiChatStreamDecoder } from './decode-stream.js';
import { decodeOpenAiChatResponse } from './decode-upstream.js';
import { createOpenAiChatStreamEncoder } from './encode-stream.js';
import { encodeOpenAiChatResponse } from './encode-response.js';
import { decodeOpenAiError, encodeOpenAiError } from './errors.js';
import { parseOpenAiChatRequest } from './parse-request.js';

export const openAiChatAdapter: ProtocolAdapter = {
  protocol: 'openai-chat',
  parseRequest: parseOpenAiChatRequest,
  encodeResponse: encodeOpenAiChatResponse,
  createStreamEncoder: createOpenAiChatStreamEncoder,
  encodeError: encodeOpenAiError,
  buildUpstreamRequest: buildOpenAiChatUpstreamRequest,
  decodeUpstreamResponse: decodeOpenAiChatResponse,
  createStreamDecoder: createOpenAiChatStreamDecoder,
  decodeUpstreamError: decodeOpenAiError,
};
