import { GatewayError, statusForKind } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/read.js';
import { kindFromAnthropicErrorType } from '../anthropic/map-stop-reason.js';
import { kindFromOpenAiErrorType } from '../openai-chat/map-finish-reason.js';

/**
 * Some proxies and OpenAI-compatible servers answer HTTP 200 with an error body. Such a body becomes the
 * error it describes (its message, a status from its type) instead of "not a chat completion".
 */
export function throwIfErrorBody(body: unknown): void {
  if (!isRecord(body)) return;
  const error = isRecord(body.error)
    ? body.error
    : isRecord(body.response) && isRecord(body.response.error)
      ? body.response.error
      : undefined;
  if (error === undefined && typeof body.error !== 'string') return;
  const message =
    typeof error?.message === 'string' && error.message !== ''
      ? error.message
      : typeof body.error === 'string'
        ? body.error
        : 'upstream error';
  const kind =
    (body.type === 'error'
      ? kindFromAnthropicErrorType(error?.type)
      : kindFromOpenAiErrorType(error?.type, error?.code)) ?? 'upstream';
  throw new GatewayError({ status: statusForKind(kind), kind, message });
}
