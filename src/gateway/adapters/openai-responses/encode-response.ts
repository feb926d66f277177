import { generateId, nowInSeconds } from '../../protocol/ids.js';
import type { EncodeContext, ModelResponse } from '../../protocol/types.js';
import { finishReasonWithToolCalls } from '../shared/finish.js';
import { freeformToolNames } from './freeform.js';
import { finishedResponseState, outputItemsFromParts, responseObject } from './output-items.js';

/** Neutral result → the body of a non-streaming `/v1/responses` answer. */
export function encodeResponsesResponse(response: ModelResponse, context: EncodeContext): unknown {
  const emittedToolCall = response.content.some((part) => part.type === 'tool-call');
  const reason = finishReasonWithToolCalls(response.finishReason, emittedToolCall);
  return responseObject(context, {
    id: context.responseId ?? (response.id.startsWith('resp_') ? response.id : generateId('resp_')),
    createdAt: context.createdAt ?? nowInSeconds(),
    output: outputItemsFromParts(response.content, freeformToolNames(context.request)),
    usage: response.usage,
    ...finishedResponseState(reason),
  });
}
