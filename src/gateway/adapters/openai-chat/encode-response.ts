import { generateId, nowInSeconds } from '../../protocol/ids.js';
import type { JsonRecord } from '../../protocol/read.js';
import type { EncodeContext, ModelResponse } from '../../protocol/types.js';
import { finishReasonWithToolCalls } from '../shared/finish.js';
import { openAiFinishReason } from './map-finish-reason.js';
import { openAiChatUsage } from './usage.js';

/** Neutral result → the body of a non-streaming `/v1/chat/completions` answer. */
export function encodeOpenAiChatResponse(response: ModelResponse, context: EncodeContext): unknown {
  let text = '';
  let reasoning = '';
  const toolCalls: JsonRecord[] = [];
  for (const part of response.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') reasoning += part.text;
    else if (part.type === 'tool-call') {
      toolCalls.push({
        id: part.id,
        type: 'function',
        function: { name: part.name, arguments: part.inputJson || '{}' },
      });
    }
  }
  const message: JsonRecord = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finishReason = finishReasonWithToolCalls(response.finishReason, toolCalls.length > 0);
  return {
    id: context.responseId ?? generateId('chatcmpl-'),
    object: 'chat.completion',
    created: context.createdAt ?? nowInSeconds(),
    model: context.request.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openAiFinishReason(finishReason) }],
    usage: openAiChatUsage(response.usage),
  };
}
