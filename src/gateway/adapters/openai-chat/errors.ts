import { kindForStatus } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/read.js';
import type { GatewayErrorInfo } from '../../protocol/types.js';
import { kindFromOpenAiErrorType, openAiErrorType } from './map-finish-reason.js';

/** `{error: {message, type, param, code}}`: the error body of chat completions and Responses alike. */
export function encodeOpenAiError(error: GatewayErrorInfo): { status: number; body: unknown } {
  const { type, code } = openAiErrorType(error.kind ?? kindForStatus(error.status));
  return {
    status: error.status,
    body: { error: { message: error.message, type, param: error.param ?? null, code } },
  };
}

export function decodeOpenAiError(status: number, body: unknown): GatewayErrorInfo {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  let message = `upstream answered HTTP ${status}`;
  if (typeof error?.message === 'string' && error.message !== '') message = error.message;
  else if (isRecord(body) && typeof body.error === 'string')
    message = body.error; // Ollama, some proxies
  else if (isRecord(body) && typeof body.message === 'string') message = body.message;
  else if (typeof body === 'string' && body.trim() !== '') message = body.trim().slice(0, 1000);
  // The HTTP status is the more reliable signal: OpenAI reports a missing model as `invalid_request_error`.
  const kind =
    status >= 400 ? kindForStatus(status) : (kindFromOpenAiErrorType(error?.type, error?.code) ?? 'upstream');
  const info: GatewayErrorInfo = { status, message, kind };
  if (typeof error?.param === 'string') info.param = error.param;
  return info;
}
