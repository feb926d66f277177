import { isRecord } from '../../protocol/read.js';
import type { StreamPart } from '../../protocol/types.js';
import { kindFromOpenAiErrorType } from '../openai-chat/map-finish-reason.js';
import { statusForKind } from '../../protocol/errors.js';

/** An `error` object inside an OpenAI stream (chat chunk or Responses event) → neutral error part. */
export function openAiStreamError(error: unknown): StreamPart {
  const record = isRecord(error) ? error : {};
  const kind = kindFromOpenAiErrorType(record.type, record.code) ?? 'upstream';
  const message =
    typeof record.message === 'string' && record.message !== ''
      ? record.message
      : typeof error === 'string'
        ? error
        : 'upstream stream error';
  return { type: 'error', status: statusForKind(kind), kind, message };
}
