import type { ProtocolAdapter } from '../../protocol/types.js';
import { decodeOpenAiError, encodeOpenAiError } from '../openai-chat/errors.js';
import { buildResponsesUpstreamRequest } from './build-upstream-request.js';
import { createResponsesStreamDecoder } from './decode-stream.js';
import { decodeResponsesResponse } from './decode-upstream.js';
import { createResponsesStreamEncoder } from './encode-stream.js';
import { encodeResponsesResponse } from './encode-response.js';
import { parseResponsesRequest } from './parse-request.js';

export const openAiResponsesAdapter: ProtocolAdapter = {
  protocol: 'openai-responses',
  parseRequest: parseResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: createResponsesStreamEncoder,
  encodeError: encodeOpenAiError,
  buildUpstreamRequest: buildResponsesUpstreamRequest,
  decodeUpstreamResponse: decodeResponsesResponse,
  createStreamDecoder: createResponsesStreamDecoder,
  decodeUpstreamError: decodeOpenAiError,
};
