import { createRequestToolNameMap } from '../../protocol/tool-names.js';
import type { JsonRecord } from '../../protocol/read.js';
import type {
  ImagePart,
  ModelMessage,
  ModelRequest,
  ToolChoice,
  ToolNameMap,
  UpstreamRequest,
} from '../../protocol/types.js';
import { noteMessageOptions, withProviderOptions } from '../shared/provider-options.js';
import { serviceTierFor } from '../shared/settings.js';
import { chatContentFromParts, textOf } from './content.js';
import { boundedUserId } from '../shared/user-id.js';

/**
 * OpenAI's reasoning models (o1, o3, o4, gpt-5) refuse `max_tokens`; OpenAI-compatible servers (Ollama,
 * older vLLM) may ignore `max_completion_tokens`. The field follows the upstream model's name.
 */
const USES_MAX_COMPLETION_TOKENS = /^(?:openai\/)?(?:o\d|gpt-5|gpt-4\.1)/;

/** Neutral request → `POST /chat/completions` body for an OpenAI-compatible upstream. */
export function buildOpenAiChatUpstreamRequest(
  request: ModelRequest,
  upstreamModel: string,
): UpstreamRequest {
  const toolNames = createRequestToolNameMap(request);
  const messages: JsonRecord[] = [];
  // One leading system message: several chat templates (Llama, Mistral, Qwen) accept no more, so system
  // messages from inside the conversation (Claude Code's environment) are appended to it.
  const systemTexts = [
    ...request.system.map((part) => part.text),
    ...request.messages.flatMap((message) =>
      message.role === 'system' ? [textOfParts(message.content)] : [],
    ),
  ].filter((text) => text !== '');
  if (systemTexts.length > 0) messages.push({ role: 'system', content: systemTexts.join('\n\n') });
  for (const message of request.messages) {
    messages.push(
      ...(message.role === 'user'
        ? userMessages(message)
        : message.role === 'assistant'
          ? [assistantMessage(message, toolNames)]
          : []),
    );
  }
  const body: JsonRecord = { model: upstreamModel, messages };
  const tools = request.tools.flatMap((tool): JsonRecord[] => {
    if (tool.providerDefined)
      return tool.providerDefined.protocol === 'openai-chat' ? [tool.providerDefined.definition] : [];
    if (tool.original?.protocol === 'openai-chat') {
      const original = tool.original.definition;
      const fn = typeof original.function === 'object' && original.function !== null ? original.function : {};
      return [{ ...original, function: { ...fn, name: toolNames.toUpstream(tool.name) } }];
    }
    const fn: JsonRecord = { name: toolNames.toUpstream(tool.name), parameters: tool.inputSchema };
    if (tool.description !== undefined) fn.description = tool.description;
    return [{ type: 'function', function: fn }];
  });
  if (tools.length > 0) {
    body.tools = tools;
    const choice = chatToolChoice(request.toolChoice, toolNames);
    if (choice !== undefined) body.tool_choice = choice;
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.maxTokens !== undefined) {
    body[USES_MAX_COMPLETION_TOKENS.test(upstreamModel) ? 'max_completion_tokens' : 'max_tokens'] =
      request.maxTokens;
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences !== undefined) body.stop = request.stopSequences;
  // Only an explicit effort is forwarded: non-reasoning models refuse the field, and an Anthropic thinking
  // budget says nothing about whether the routed model reasons (the call path maps one where it does).
  if (request.reasoning?.effort !== undefined) body.reasoning_effort = request.reasoning.effort;
  if (request.verbosity !== undefined) body.verbosity = request.verbosity;
  const notes: string[] = [];
  noteMessageOptions(request, 'openai-chat', notes);
  const serviceTier = serviceTierFor(request, 'openai-chat', notes);
  if (serviceTier !== undefined) body.service_tier = serviceTier;
  if (request.metadata?.userId !== undefined) body.user = boundedUserId(request.metadata.userId, 64);
  if (request.stream) {
    body.stream = true;
    // Always ask for the trailing usage chunk: usage is recorded for every call.
    body.stream_options = { include_usage: true };
  }
  if (request.responseFormat !== undefined) {
    const { schema, name, strict } = request.responseFormat;
    body.response_format =
      schema === undefined
        ? { type: 'json_object' }
        : {
            type: 'json_schema',
            json_schema: { name: name ?? 'response', schema, ...(strict === undefined ? {} : { strict }) },
          };
  }
  return {
    path: '/chat/completions',
    body: withProviderOptions(body, request, 'openai-chat', notes),
    toolNames,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** A neutral user turn → `tool` messages for its results, then one `user` message for the rest. */
function userMessages(message: ModelMessage): JsonRecord[] {
  const messages: JsonRecord[] = [];
  const rest: Array<Exclude<ModelMessage['content'][number], { type: 'tool-result' }>> = [];
  const toolImages: ImagePart[] = [];
  for (const part of message.content) {
    if (part.type !== 'tool-result') {
      rest.push(part);
      continue;
    }
    const text = textOf(part.content);
    messages.push({
      role: 'tool',
      tool_call_id: part.toolCallId,
      content: part.isError ? `Error: ${text}` : text,
    });
    // Tool messages carry text only; images a tool returned follow in a user message.
    for (const item of part.content) if (item.type === 'image') toolImages.push(item);
  }
  const content = [
    ...(toolImages.length > 0
      ? [{ type: 'text' as const, text: 'Images returned by the tool calls above:' }, ...toolImages]
      : []),
    ...rest.filter((part) => part.type === 'text' || part.type === 'image'),
  ];
  if (content.length > 0) messages.push({ role: 'user', content: chatContentFromParts(content) });
  return messages;
}

function assistantMessage(message: ModelMessage, toolNames: ToolNameMap): JsonRecord {
  const text = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  const toolCalls = message.content.flatMap((part) =>
    part.type === 'tool-call'
      ? [
          {
            id: part.id,
            type: 'function',
            function: { name: toolNames.toUpstream(part.name), arguments: part.inputJson || '{}' },
          },
        ]
      : [],
  );
  const result: JsonRecord = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) result.tool_calls = toolCalls;
  return result;
}

function textOfParts(parts: ModelMessage['content']): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function chatToolChoice(choice: ToolChoice | undefined, toolNames: ToolNameMap): unknown {
  switch (choice?.type) {
    case undefined:
      return undefined;
    case 'auto':
    case 'none':
    case 'required':
      return choice.type;
    case 'tool':
      return { type: 'function', function: { name: toolNames.toUpstream(choice.name) } };
  }
}
