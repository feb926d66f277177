import { generateId } from '../../protocol/ids.js';
import type { EncodeContext, ModelResponse } from '../../protocol/types.js';
import { finishReasonWithToolCalls } from '../shared/finish.js';
import { anthropicBlocksFromParts } from './content.js';
import { anthropicStopReason } from './map-stop-reason.js';
import { anthropicUsage } from './usage.js';

/** Neutral result → the body of a non-streaming `/v1/messages` answer. */
export function encodeAnthropicResponse(response: ModelResponse, context: EncodeContext): unknown {
  const emittedToolCall = response.content.some((part) => part.type === 'tool-call');
  const finishReason = finishReasonWithToolCalls(response.finishReason, emittedToolCall);
  return {
    id: context.responseId ?? (response.id.startsWith('msg_') ? response.id : generateId('msg_')),
    type: 'message',
    role: 'assistant',
    model: context.request.model,
    content: anthropicBlocksFromParts(response.content, { forUpstream: false }),
    stop_reason: anthropicStopReason(finishReason, response.stopSequence, response.rawFinishReason),
    stop_sequence: response.stopSequence ?? null,
    usage: anthropicUsage(response.usage),
  };
}
