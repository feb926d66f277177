import type { FinishReason, GatewayErrorKind, RawFinishReason } from '../../protocol/types.js';

export function finishReasonFromAnthropic(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}

/** The upstream's own Anthropic stop reason when there is one, else the neutral reason mapped. */
export function anthropicStopReason(
  reason: FinishReason,
  stopSequence: string | undefined,
  raw?: RawFinishReason,
): string {
  // A raw reason survives unless the tool-call rule changed the neutral one.
  if (raw?.protocol === 'anthropic-messages' && finishReasonFromAnthropic(raw.value) === reason)
    return raw.value;
  switch (reason) {
    case 'stop':
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence';
    case 'length':
      return 'max_tokens';
    case 'tool-calls':
      return 'tool_use';
    case 'content-filter':
      return 'refusal';
    case 'error':
    case 'other':
      return 'end_turn';
  }
}

export function anthropicErrorType(kind: GatewayErrorKind): string {
  switch (kind) {
    case 'invalid-request':
      return 'invalid_request_error';
    case 'authentication':
      return 'authentication_error';
    case 'permission':
      return 'permission_error';
    case 'not-found':
      return 'not_found_error';
    case 'request-too-large':
      return 'request_too_large';
    case 'rate-limit':
      return 'rate_limit_error';
    case 'timeout':
      return 'timeout_error';
    case 'overloaded':
      return 'overloaded_error';
    case 'upstream':
    case 'internal':
      return 'api_error';
  }
}

export function kindFromAnthropicErrorType(type: unknown): GatewayErrorKind | undefined {
  switch (type) {
    case 'invalid_request_error':
      return 'invalid-request';
    case 'authentication_error':
      return 'authentication';
    case 'permission_error':
    case 'billing_error':
      return 'permission';
    case 'not_found_error':
      return 'not-found';
    case 'request_too_large':
      return 'request-too-large';
    case 'rate_limit_error':
      return 'rate-limit';
    case 'timeout_error':
      return 'timeout';
    case 'overloaded_error':
      return 'overloaded';
    case 'api_error':
      return 'upstream';
    default:
      return undefined;
  }
}
