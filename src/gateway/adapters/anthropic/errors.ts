import { kindForStatus } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/read.js';
import type { GatewayErrorInfo } from '../../protocol/types.js';
import { anthropicErrorType, kindFromAnthropicErrorType } from './map-stop-reason.js';

export function encodeAnthropicError(error: GatewayErrorInfo): { status: number; body: unknown } {
  const kind = error.kind ?? kindForStatus(error.status);
  return {
    status: error.status,
    body: { type: 'error', error: { type: anthropicErrorType(kind), message: error.message } },
  };
}

/** `{type: "error", error: {type, message}}` from an Anthropic upstream → neutral; tolerant of other shapes. */
export function decodeAnthropicError(status: number, body: unknown): GatewayErrorInfo {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : typeof body === 'string' && body.trim() !== ''
        ? body.trim().slice(0, 1000)
        : `upstream answered HTTP ${status}`;
  return { status, message, kind: kindFromAnthropicErrorType(error?.type) ?? kindForStatus(status) };
}
