import { invalidRequest } from '../../protocol/errors.js';
import {
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalString,
  optionalStringList,
  type JsonRecord,
} from '../../protocol/read.js';
import type {
  ContentPart,
  ModelMessage,
  ModelRequest,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
} from '../../protocol/types.js';
import { hasFieldsBeyond, unknownFields } from '../shared/provider-options.js';
import { readSampling } from '../shared/sampling.js';
import { parseEffort, readServiceTier } from '../shared/settings.js';
import { appendMessage, partsFromChatContent, textOf } from './content.js';

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'tools',
  'functions',
  'tool_choice',
  'function_call',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'stream_options',
  'reasoning_effort',
  'verbosity',
  'service_tier',
  'user',
  'n',
  'response_format',
]);

/** A `POST /v1/chat/completions` body → neutral request. */
export function parseOpenAiChatRequest(body: unknown): ModelRequest {
  const record = expectRecord(body, 'body');
  const n = optionalNumber(record.n, 'n');
  if (n !== undefined && n !== 1) throw invalidRequest('n', 'only n = 1 is supported by the Warren gateway');
  const system: TextPart[] = [];
  const messages: ModelMessage[] = [];
  expectArray(record.messages, 'messages').forEach((item, index) =>
    parseMessage(item, `messages[${index}]`, system, messages),
  );
  const request: ModelRequest = {
    model: expectString(record.model, 'model'),
    system,
    messages,
    tools: parseTools(record),
    stream: optionalBoolean(record.stream, 'stream') ?? false,
  };
  const toolChoice = parseToolChoice(record.tool_choice ?? record.function_call);
  if (toolChoice) request.toolChoice = toolChoice;
  const parallel = optionalBoolean(record.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const maxTokens =
    optionalNumber(record.max_completion_tokens, 'max_completion_tokens') ??
    optionalNumber(record.max_tokens, 'max_tokens');
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  readSampling(record, request);
  const stop = optionalStringList(record.stop, 'stop');
  if (stop !== undefined && stop.length > 0) request.stopSequences = stop;
  if (isRecord(record.stream_options) && record.stream_options.include_usage === true)
    request.streamIncludeUsage = true;
  const effort = parseEffort(record.reasoning_effort, 'reasoning_effort');
  if (effort !== undefined) request.reasoning = { effort };
  const verbosity = optionalString(record.verbosity, 'verbosity');
  if (verbosity !== undefined) request.verbosity = verbosity;
  readServiceTier(record, 'openai-chat', request);
  const user = optionalString(record.user, 'user');
  if (user !== undefined) request.metadata = { userId: user };
  const format = parseResponseFormat(record.response_format);
  if (format) request.responseFormat = format;
  const extra = unknownFields(record, KNOWN_FIELDS, 'openai-chat');
  if (extra) request.providerOptions = extra;
  return request;
}

/** `response_format`: text (nothing to do), any JSON object, or JSON matching a schema. */
function parseResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const format = expectRecord(value, 'response_format');
  if (format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json' };
  if (format.type === 'json_schema') {
    const spec = expectRecord(format.json_schema, 'response_format.json_schema');
    const result: ResponseFormat = { type: 'json' };
    if (spec.schema !== undefined)
      result.schema = expectRecord(spec.schema, 'response_format.json_schema.schema');
    if (typeof spec.name === 'string') result.name = spec.name;
    if (typeof spec.strict === 'boolean') result.strict = spec.strict;
    return result;
  }
  throw invalidRequest('response_format.type', 'expected "text", "json_object" or "json_schema"');
}

function parseMessage(value: unknown, path: string, system: TextPart[], messages: ModelMessage[]): void {
  const message = expectRecord(value, path);
  switch (message.role) {
    case 'system':
    case 'developer': {
      const parts = partsFromChatContent(message.content, `${path}.content`);
      const text = textOf(parts);
      const cached = parts.find((part) => part.cacheControl !== undefined)?.cacheControl;
      if (text !== '')
        system.push(cached ? { type: 'text', text, cacheControl: cached } : { type: 'text', text });
      return;
    }
    case 'user':
      appendMessage(messages, 'user', partsFromChatContent(message.content, `${path}.content`));
      return;
    case 'assistant':
      appendMessage(messages, 'assistant', parseAssistant(message, path));
      return;
    case 'tool':
      appendMessage(messages, 'user', [
        {
          type: 'tool-result',
          toolCallId: expectString(message.tool_call_id, `${path}.tool_call_id`),
          content: partsFromChatContent(message.content, `${path}.content`),
        },
      ]);
      return;
    default:
      throw invalidRequest(`${path}.role`, 'expected "system", "developer", "user", "assistant" or "tool"');
  }
}

function parseAssistant(message: JsonRecord, path: string): ContentPart[] {
  const parts: ContentPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') parts.push({ type: 'reasoning', text: reasoning });
  parts.push(...partsFromChatContent(message.content, `${path}.content`));
  if (typeof message.refusal === 'string' && message.refusal !== '')
    parts.push({ type: 'text', text: message.refusal });
  if (message.tool_calls !== undefined && message.tool_calls !== null) {
    expectArray(message.tool_calls, `${path}.tool_calls`).forEach((item, index) => {
      const callPath = `${path}.tool_calls[${index}]`;
      const call = expectRecord(item, callPath);
      const fn = expectRecord(call.function, `${callPath}.function`);
      parts.push({
        type: 'tool-call',
        id: expectString(call.id, `${callPath}.id`),
        name: expectString(fn.name, `${callPath}.function.name`),
        inputJson: optionalString(fn.arguments, `${callPath}.function.arguments`) ?? '',
      });
    });
  }
  return parts;
}

/** `tools` (and the legacy `functions`) → neutral tool definitions. */
function parseTools(record: JsonRecord): ToolDefinition[] {
  const tools: ToolDefinition[] = [];
  if (record.tools !== undefined && record.tools !== null) {
    expectArray(record.tools, 'tools').forEach((item, index) => {
      const tool = expectRecord(item, `tools[${index}]`);
      if (tool.type !== 'function') {
        tools.push({
          name: String(tool.type),
          inputSchema: {},
          providerDefined: { protocol: 'openai-chat', definition: tool },
        });
        return;
      }
      const definition = parseFunction(tool.function, `tools[${index}].function`);
      if (
        hasFieldsBeyond(tool, ['type', 'function']) ||
        hasFieldsBeyond(tool.function, ['name', 'description', 'parameters'])
      ) {
        definition.original = { protocol: 'openai-chat', definition: tool };
      }
      tools.push(definition);
    });
  }
  if (Array.isArray(record.functions))
    record.functions.forEach((item, index) => tools.push(parseFunction(item, `functions[${index}]`)));
  return tools;
}

function parseFunction(value: unknown, path: string): ToolDefinition {
  const fn = expectRecord(value, path);
  const definition: ToolDefinition = {
    name: expectString(fn.name, `${path}.name`),
    inputSchema:
      fn.parameters === undefined
        ? { type: 'object', properties: {} }
        : expectRecord(fn.parameters, `${path}.parameters`),
  };
  const description = optionalString(fn.description, `${path}.description`);
  if (description !== undefined) definition.description = description;
  return definition;
}

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (isRecord(value)) {
    const fn = isRecord(value.function) ? value.function : value;
    return { type: 'tool', name: expectString(fn.name, 'tool_choice.function.name') };
  }
  throw invalidRequest(
    'tool_choice',
    'expected "auto", "none", "required" or {type: "function", function: {name}}',
  );
}
