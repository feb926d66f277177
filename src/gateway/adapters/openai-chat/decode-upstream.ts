import { badUpstreamBody } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/read.js';
import { identityToolNames } from '../../protocol/tool-names.js';
import type { ContentPart, DecodeContext, ModelResponse } from '../../protocol/types.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { finishReasonFromOpenAi } from './map-finish-reason.js';
import { usageFromOpenAiChat } from './usage.js';
import { throwIfErrorBody } from '../shared/error-in-body.js';

/** A non-streaming chat completion from an OpenAI-compatible upstream → neutral result. */
export function decodeOpenAiChatResponse(body: unknown, context: DecodeContext = {}): ModelResponse {
  throwIfErrorBody(body);
  if (!isRecord(body) || !Array.isArray(body.choices))
    throw badUpstreamBody('expected a chat completion with choices');
  const toolNames = context.toolNames ?? identityToolNames;
  const choice = isRecord(body.choices[0]) ? body.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const content: ContentPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') content.push({ type: 'reasoning', text: reasoning });
  if (typeof message.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  if (Array.isArray(message.content)) {
    for (const item of message.content) {
      if (isRecord(item) && typeof item.text === 'string') content.push({ type: 'text', text: item.text });
    }
  }
  if (typeof message.refusal === 'string' && message.refusal !== '')
    content.push({ type: 'text', text: message.refusal });
  let toolIndex = 0;
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(call)) continue;
    const fn = isRecord(call.function) ? call.function : {};
    content.push({
      type: 'tool-call',
      id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${toolIndex}`,
      name: toolNames.fromUpstream(typeof fn.name === 'string' ? fn.name : ''),
      inputJson: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
    });
    toolIndex += 1;
  }
  return {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finishReason: finishReasonWithToolCalls(finishReasonFromOpenAi(choice.finish_reason), toolIndex > 0),
    usage: mergeUsage(emptyUsage(), usageFromOpenAiChat(body.usage)),
  };
}
