import type { FinishReason, GatewayErrorKind } from '../../protocol/types.js';

export function finishReasonFromOpenAi(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
    case 'end_turn':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'tool_calls':
    case 'function_call':
    case 'tool_use':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

export function openAiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop':
    case 'error':
    case 'other':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
      return 'content_filter';
  }
}

/** OpenAI's `error.type` and `error.code` for a neutral kind (shared by chat completions and Responses). */
export function openAiErrorType(kind: GatewayErrorKind): { type: string; code: string | null } {
  switch (kind) {
    case 'invalid-request':
      return { type: 'invalid_request_error', code: null };
    case 'authentication':
      return { type: 'authentication_error', code: 'invalid_api_key' };
    case 'permission':
      return { type: 'permission_error', code: null };
    case 'not-found':
      return { type: 'not_found_error', code: 'model_not_found' };
    case 'request-too-large':
      return { type: 'invalid_request_error', code: 'request_too_large' };
    case 'rate-limit':
      return { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
    case 'timeout':
      return { type: 'timeout_error', code: 'timeout' };
    case 'overloaded':
      return { type: 'server_error', code: 'server_overloaded' };
    case 'upstream':
    case 'internal':
      return { type: 'server_error', code: null };
  }
}

export function kindFromOpenAiErrorType(type: unknown, code: unknown): GatewayErrorKind | undefined {
  if (code === 'invalid_api_key') return 'authentication';
  if (code === 'rate_limit_exceeded' || code === 'insufficient_quota') return 'rate-limit';
  if (code === 'context_length_exceeded') return 'invalid-request';
  switch (type) {
    case 'invalid_request_error':
      return 'invalid-request';
    case 'authentication_error':
      return 'authentication';
    case 'permission_error':
      return 'permission';
    case 'not_found_error':
      return 'not-found';
    case 'rate_limit_error':
    case 'tokens':
    case 'requests':
      return 'rate-limit';
    case 'timeout_error':
      return 'timeout';
    case 'server_error':
      return 'upstream';
    default:
      return undefined;
  }
}
