import { badUpstreamBody } from '../../protocol/errors.js';
import { isRecord, type JsonRecord } from '../../protocol/read.js';
import { identityToolNames } from '../../protocol/tool-names.js';
import type {
  ContentPart,
  DecodeContext,
  ModelResponse,
  ReasoningPart,
  ToolNameMap,
} from '../../protocol/types.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { freeformInputJson } from './freeform.js';
import { finishReasonFromResponse, usageFromResponses } from './usage.js';
import { throwIfErrorBody } from '../shared/error-in-body.js';

/** A non-streaming `/responses` answer from an OpenAI upstream → neutral result. */
export function decodeResponsesResponse(body: unknown, context: DecodeContext = {}): ModelResponse {
  throwIfErrorBody(body);
  if (!isRecord(body) || !Array.isArray(body.output))
    throw badUpstreamBody('expected a Responses object with output');
  const toolNames = context.toolNames ?? identityToolNames;
  const content = body.output.flatMap((item) => (isRecord(item) ? partsFromOutputItem(item, toolNames) : []));
  const emittedToolCall = content.some((part) => part.type === 'tool-call');
  return {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finishReason: finishReasonWithToolCalls(
      finishReasonFromResponse(body.status, body.incomplete_details),
      emittedToolCall,
    ),
    usage: mergeUsage(emptyUsage(), usageFromResponses(body.usage)),
  };
}

/** One output item (message, function_call, reasoning) → neutral parts; hosted-tool items are skipped. */
export function partsFromOutputItem(item: JsonRecord, toolNames: ToolNameMap): ContentPart[] {
  switch (item.type) {
    case 'message': {
      const parts: ContentPart[] = [];
      for (const entry of Array.isArray(item.content) ? item.content : []) {
        if (!isRecord(entry)) continue;
        const text = entry.type === 'refusal' ? entry.refusal : entry.text;
        if (typeof text === 'string' && text !== '') parts.push({ type: 'text', text });
      }
      return parts;
    }
    case 'function_call':
      return [
        {
          type: 'tool-call',
          id: String(item.call_id ?? item.id ?? ''),
          name: toolNames.fromUpstream(String(item.name ?? '')),
          inputJson: typeof item.arguments === 'string' ? item.arguments : '',
        },
      ];
    case 'custom_tool_call':
      return [
        {
          type: 'tool-call',
          id: String(item.call_id ?? item.id ?? ''),
          name: toolNames.fromUpstream(String(item.name ?? '')),
          inputJson: freeformInputJson(typeof item.input === 'string' ? item.input : ''),
        },
      ];
    case 'reasoning':
      return [reasoningFromItem(item)];
    default:
      return [];
  }
}

export function reasoningFromItem(item: JsonRecord): ReasoningPart {
  const texts: string[] = [];
  for (const list of [item.summary, item.content]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) if (isRecord(entry) && typeof entry.text === 'string') texts.push(entry.text);
  }
  const part: ReasoningPart = { type: 'reasoning', text: texts.join('\n\n') };
  if (typeof item.encrypted_content === 'string') part.encryptedContent = item.encrypted_content;
  if (typeof item.id === 'string') part.itemId = item.id;
  return part;
}
