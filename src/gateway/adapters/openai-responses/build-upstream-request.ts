import { createRequestToolNameMap } from '../../protocol/tool-names.js';
import type { JsonRecord } from '../../protocol/read.js';
import type {
  ImagePart,
  ModelMessage,
  ModelRequest,
  TextPart,
  ToolNameMap,
  UpstreamRequest,
} from '../../protocol/types.js';
import { imageUrl } from '../openai-chat/content.js';
import { isRecord } from '../../protocol/read.js';
import { noteMessageOptions, withProviderOptions } from '../shared/provider-options.js';
import { serviceTierFor } from '../shared/settings.js';
import { freeformInputText, freeformToolNames } from './freeform.js';
import { responsesToolChoice } from './output-items.js';
import { boundedUserId } from '../shared/user-id.js';

/**
 * Neutral request → `POST /responses` body. Always `store: false`: the gateway sends the whole conversation
 * each time, and OpenAI's reasoning items come back encrypted so they can be sent again.
 */
export function buildResponsesUpstreamRequest(request: ModelRequest, upstreamModel: string): UpstreamRequest {
  const toolNames = createRequestToolNameMap(request);
  const freeform = freeformCalls(request);
  const input: JsonRecord[] = [];
  for (const message of request.messages) {
    if (message.role === 'system') input.push(...developerItems(message));
    else if (message.role === 'user') input.push(...userItems(message, freeform.callIds));
    else input.push(...assistantItems(message, toolNames, freeform.names));
  }
  const body: JsonRecord = { model: upstreamModel, input, store: false };
  if (request.system.length > 0) body.instructions = request.system.map((part) => part.text).join('\n\n');
  const tools = request.tools.flatMap((tool): JsonRecord[] => {
    if (tool.providerDefined)
      return tool.providerDefined.protocol === 'openai-responses' ? [tool.providerDefined.definition] : [];
    if (tool.original?.protocol === 'openai-responses') {
      return [{ ...tool.original.definition, name: toolNames.toUpstream(tool.name) }];
    }
    if (tool.freeform) return [{ ...tool.freeform, name: toolNames.toUpstream(tool.name) }];
    const encoded: JsonRecord = {
      type: 'function',
      name: toolNames.toUpstream(tool.name),
      parameters: tool.inputSchema,
      strict: false,
    };
    if (tool.description !== undefined) encoded.description = tool.description;
    return [encoded];
  });
  if (tools.length > 0) {
    body.tools = tools;
    const choice = responsesToolChoice(request.toolChoice, toolNames.toUpstream, freeform.names);
    if (choice !== undefined) body.tool_choice = choice;
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  // As for chat completions, only an explicit effort is forwarded (non-reasoning models refuse the field),
  // with what else a Responses caller put in `reasoning` (`context`, its own summary).
  const callerReasoning = callerObject(request, 'reasoning');
  if (request.reasoning?.effort !== undefined || callerReasoning !== undefined) {
    body.reasoning = {
      summary: 'auto',
      ...callerReasoning,
      ...(request.reasoning?.effort !== undefined ? { effort: request.reasoning.effort } : {}),
    };
    body.include = ['reasoning.encrypted_content'];
  }
  if (request.metadata?.userId !== undefined) body.user = boundedUserId(request.metadata.userId, 64);
  if (request.stream) body.stream = true;
  const notes: string[] = [];
  noteMessageOptions(request, 'openai-responses', notes);
  const serviceTier = serviceTierFor(request, 'openai-responses', notes);
  if (serviceTier !== undefined) body.service_tier = serviceTier;
  const text = { ...callerObject(request, 'text') };
  if (request.verbosity !== undefined) text.verbosity = request.verbosity;
  if (Object.keys(text).length > 0) body.text = text;
  const result = withProviderOptions(body, request, 'openai-responses', notes);
  if (request.responseFormat !== undefined) {
    const { schema, name, strict } = request.responseFormat;
    const format =
      schema === undefined
        ? { type: 'json_object' }
        : {
            type: 'json_schema',
            name: name ?? 'response',
            schema,
            ...(strict === undefined ? {} : { strict }),
          };
    result.text = { ...(isRecord(result.text) ? result.text : {}), format };
  }
  return { path: '/responses', body: result, toolNames, ...(notes.length > 0 ? { notes } : {}) };
}

/** What a Responses caller left in one of its objects beyond the neutral parts, for a Responses upstream. */
function callerObject(request: ModelRequest, field: 'reasoning' | 'text'): JsonRecord | undefined {
  const extra = request.providerOptions;
  if (extra?.protocol !== 'openai-responses') return undefined;
  const value = extra.options[field];
  return isRecord(value) ? value : undefined;
}

/** Free-form (custom) tools by name, and the ids of the calls made to them in the history. */
function freeformCalls(request: ModelRequest): { names: Set<string>; callIds: Set<string> } {
  const names = freeformToolNames(request);
  const callIds = new Set<string>();
  for (const message of request.messages) {
    for (const part of message.content)
      if (part.type === 'tool-call' && names.has(part.name)) callIds.add(part.id);
  }
  return { names, callIds };
}

/** A system message inside the conversation stays in place as a `developer` message. */
function developerItems(message: ModelMessage): JsonRecord[] {
  const content = message.content.flatMap((part) =>
    part.type === 'text' ? [{ type: 'input_text', text: part.text }] : [],
  );
  return content.length > 0 ? [{ type: 'message', role: 'developer', content }] : [];
}

function userItems(message: ModelMessage, freeformCallIds: Set<string>): JsonRecord[] {
  const items: JsonRecord[] = [];
  const content: JsonRecord[] = [];
  for (const part of message.content) {
    if (part.type === 'tool-result') {
      const onlyText = part.content.every((item) => item.type === 'text');
      const text = part.content.map((item) => (item.type === 'text' ? item.text : '')).join('');
      items.push({
        type: freeformCallIds.has(part.toolCallId) ? 'custom_tool_call_output' : 'function_call_output',
        call_id: part.toolCallId,
        output: onlyText ? (part.isError ? `Error: ${text}` : text) : part.content.map(inputContent),
      });
    } else if (part.type === 'text' || part.type === 'image') {
      content.push(inputContent(part));
    }
  }
  if (content.length > 0) items.push({ type: 'message', role: 'user', content });
  return items;
}

function inputContent(part: TextPart | ImagePart): JsonRecord {
  if (part.type === 'text') return { type: 'input_text', text: part.text };
  return { type: 'input_image', image_url: imageUrl(part), detail: part.detail ?? 'auto' };
}

function assistantItems(
  message: ModelMessage,
  toolNames: ToolNameMap,
  freeformNames: Set<string>,
): JsonRecord[] {
  const items: JsonRecord[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case 'text':
        if (part.text !== '')
          items.push({
            type: 'message',
            role: 'assistant',
            content: [{ type: 'output_text', text: part.text }],
          });
        break;
      case 'tool-call':
        if (freeformNames.has(part.name)) {
          items.push({
            type: 'custom_tool_call',
            call_id: part.id,
            name: toolNames.toUpstream(part.name),
            input: freeformInputText(part.inputJson),
          });
          break;
        }
        items.push({
          type: 'function_call',
          call_id: part.id,
          name: toolNames.toUpstream(part.name),
          arguments: part.inputJson || '{}',
        });
        break;
      case 'reasoning':
        // OpenAI accepts its own reasoning back only with the item id and encrypted content.
        if (part.encryptedContent !== undefined && part.itemId !== undefined) {
          items.push({
            type: 'reasoning',
            id: part.itemId,
            summary: part.text === '' ? [] : [{ type: 'summary_text', text: part.text }],
            encrypted_content: part.encryptedContent,
          });
        }
        break;
      case 'image':
      case 'tool-result':
      case 'provider':
        break;
    }
  }
  return items;
}
