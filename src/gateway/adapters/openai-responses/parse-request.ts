import { invalidRequest } from '../../protocol/errors.js';
import {
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalString,
  type JsonRecord,
} from '../../protocol/read.js';
import type {
  ImagePart,
  ModelMessage,
  ModelRequest,
  ReasoningPart,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
} from '../../protocol/types.js';
import { appendMessage, imageFromUrl } from '../openai-chat/content.js';
import { hasFieldsBeyond, unknownFields } from '../shared/provider-options.js';
import { readSampling } from '../shared/sampling.js';
import { parseEffort, readServiceTier } from '../shared/settings.js';
import { freeformInputJson, freeformTool } from './freeform.js';

/**
 * Fields read here, or ignored because the gateway sets them itself (`store`, `include`). `text` and
 * `reasoning` are read in part; what is left of them is kept (`withoutNeutralParts`).
 */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'instructions',
  'input',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'user',
  'previous_response_id',
  'store',
  'include',
  'service_tier',
]);
/** Items that record work OpenAI's servers did (hosted tools); other models cannot use them. */
const HOSTED_TOOL_ITEMS = new Set([
  'web_search_call',
  'file_search_call',
  'image_generation_call',
  'code_interpreter_call',
]);

/** A `POST /v1/responses` body → neutral request. The gateway keeps no state: `previous_response_id` is refused. */
export function parseResponsesRequest(body: unknown): ModelRequest {
  const record = expectRecord(body, 'body');
  if (record.previous_response_id !== undefined && record.previous_response_id !== null) {
    throw invalidRequest(
      'previous_response_id',
      'the Warren gateway keeps no conversation state; send the whole conversation in `input` (Codex: set `disable_response_storage = true`)',
    );
  }
  const system: TextPart[] = [];
  const instructions = optionalString(record.instructions, 'instructions');
  if (instructions !== undefined && instructions !== '') system.push({ type: 'text', text: instructions });
  const messages: ModelMessage[] = [];
  if (typeof record.input === 'string')
    appendMessage(messages, 'user', [{ type: 'text', text: record.input }]);
  else if (record.input !== undefined && record.input !== null) {
    expectArray(record.input, 'input').forEach((item, index) =>
      parseItem(item, `input[${index}]`, system, messages),
    );
  }
  const request: ModelRequest = {
    model: expectString(record.model, 'model'),
    system,
    messages,
    tools: parseTools(record.tools),
    stream: optionalBoolean(record.stream, 'stream') ?? false,
  };
  const toolChoice = parseToolChoice(record.tool_choice);
  if (toolChoice) request.toolChoice = toolChoice;
  const parallel = optionalBoolean(record.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const maxTokens = optionalNumber(record.max_output_tokens, 'max_output_tokens');
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  readSampling(record, request);
  if (isRecord(record.reasoning)) {
    const effort = parseEffort(record.reasoning.effort, 'reasoning.effort');
    request.reasoning = effort === undefined ? {} : { effort };
  }
  const user = optionalString(record.user, 'user');
  if (user !== undefined) request.metadata = { userId: user };
  if (isRecord(record.text)) {
    if (record.text.format !== undefined) {
      const format = parseTextFormat(record.text.format);
      if (format) request.responseFormat = format;
    }
    const verbosity = optionalString(record.text.verbosity, 'text.verbosity');
    if (verbosity !== undefined) request.verbosity = verbosity;
  }
  readServiceTier(record, 'openai-responses', request);
  const extra = unknownFields(withoutNeutralParts(record), KNOWN_FIELDS, 'openai-responses');
  if (extra) request.providerOptions = extra;
  return request;
}

/**
 * `text` and `reasoning` may carry more than their neutral parts (`reasoning.context`, a summary other
 * than `auto`, newer fields): that rest stays among the unread fields, for Responses upstreams.
 */
function withoutNeutralParts(record: JsonRecord): JsonRecord {
  const result = { ...record };
  if (isRecord(record.text)) {
    const { format: _format, verbosity: _verbosity, ...rest } = record.text;
    result.text = Object.keys(rest).length > 0 ? rest : undefined;
  }
  if (isRecord(record.reasoning)) {
    const { effort: _effort, summary, ...rest } = record.reasoning;
    const kept = summary === undefined || summary === 'auto' ? rest : { ...rest, summary };
    result.reasoning = Object.keys(kept).length > 0 ? kept : undefined;
  }
  return result;
}

/** `text.format`: text (nothing to do), any JSON object, or JSON matching a schema. */
function parseTextFormat(value: unknown): ResponseFormat | undefined {
  const format = expectRecord(value, 'text.format');
  if (format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json' };
  if (format.type === 'json_schema') {
    const result: ResponseFormat = { type: 'json' };
    if (format.schema !== undefined) result.schema = expectRecord(format.schema, 'text.format.schema');
    if (typeof format.name === 'string') result.name = format.name;
    if (typeof format.strict === 'boolean') result.strict = format.strict;
    return result;
  }
  throw invalidRequest('text.format.type', 'expected "text", "json_object" or "json_schema"');
}

function parseItem(value: unknown, path: string, system: TextPart[], messages: ModelMessage[]): void {
  const item = expectRecord(value, path);
  const type: unknown = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message':
      return parseMessageItem(item, path, system, messages);
    case 'function_call':
      return appendMessage(messages, 'assistant', [
        {
          type: 'tool-call',
          id: expectString(item.call_id, `${path}.call_id`),
          name: expectString(item.name, `${path}.name`),
          inputJson: optionalString(item.arguments, `${path}.arguments`) ?? '',
        },
      ]);
    case 'custom_tool_call':
      return appendMessage(messages, 'assistant', [
        {
          type: 'tool-call',
          id: expectString(item.call_id, `${path}.call_id`),
          name: expectString(item.name, `${path}.name`),
          inputJson: freeformInputJson(optionalString(item.input, `${path}.input`) ?? ''),
        },
      ]);
    case 'function_call_output':
    case 'custom_tool_call_output':
      return appendMessage(messages, 'user', [
        {
          type: 'tool-result',
          toolCallId: expectString(item.call_id, `${path}.call_id`),
          content: outputContent(item.output, `${path}.output`),
        },
      ]);
    case 'reasoning':
      return appendMessage(messages, 'assistant', [reasoningItem(item, path)]);
    default:
      if (typeof type === 'string' && HOSTED_TOOL_ITEMS.has(type)) return;
      throw invalidRequest(
        `${path}.type`,
        `input item type ${JSON.stringify(type)} is not supported by the Warren gateway ` +
          '(supported: message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning)',
      );
  }
}

function parseMessageItem(
  item: JsonRecord,
  path: string,
  system: TextPart[],
  messages: ModelMessage[],
): void {
  const parts = messageContent(item.content, `${path}.content`);
  switch (item.role) {
    case 'system':
    case 'developer': {
      const text = parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
      if (text !== '') system.push({ type: 'text', text });
      return;
    }
    case 'user':
      return appendMessage(messages, 'user', parts);
    case 'assistant':
      return appendMessage(messages, 'assistant', parts);
    default:
      throw invalidRequest(`${path}.role`, 'expected "user", "assistant", "system" or "developer"');
  }
}

/** `input_text`, `output_text`, `refusal`, `input_image` parts (or a plain string). */
function messageContent(value: unknown, path: string): Array<TextPart | ImagePart> {
  if (typeof value === 'string') return value === '' ? [] : [{ type: 'text', text: value }];
  return expectArray(value, path).map((item, index) => {
    const itemPath = `${path}[${index}]`;
    const part = expectRecord(item, itemPath);
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return { type: 'text', text: expectString(part.text, `${itemPath}.text`) };
      case 'refusal':
        return { type: 'text', text: expectString(part.refusal, `${itemPath}.refusal`) };
      case 'input_image':
        return imageFromUrl(
          expectString(part.image_url, `${itemPath}.image_url`),
          optionalString(part.detail, `${itemPath}.detail`),
        );
      default:
        throw invalidRequest(
          `${itemPath}.type`,
          `content type ${JSON.stringify(part.type)} is not supported by the Warren gateway (supported: input_text, output_text, input_image)`,
        );
    }
  });
}

function outputContent(value: unknown, path: string): Array<TextPart | ImagePart> {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  if (value === undefined || value === null) return [];
  return messageContent(value, path);
}

function reasoningItem(item: JsonRecord, path: string): ReasoningPart {
  const texts: string[] = [];
  for (const list of [item.summary, item.content]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) if (isRecord(entry) && typeof entry.text === 'string') texts.push(entry.text);
  }
  const part: ReasoningPart = { type: 'reasoning', text: texts.join('\n\n') };
  const encrypted = optionalString(item.encrypted_content, `${path}.encrypted_content`);
  if (encrypted !== undefined) part.encryptedContent = encrypted;
  if (typeof item.id === 'string') part.itemId = item.id;
  return part;
}

function parseTools(value: unknown): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  return expectArray(value, 'tools').map((item, index) => {
    const path = `tools[${index}]`;
    const tool = expectRecord(item, path);
    if (tool.type === 'custom') return freeformTool(tool, expectString(tool.name, `${path}.name`));
    if (tool.type !== 'function') {
      const name = typeof tool.name === 'string' ? tool.name : String(tool.type);
      return { name, inputSchema: {}, providerDefined: { protocol: 'openai-responses', definition: tool } };
    }
    const definition: ToolDefinition = {
      name: expectString(tool.name, `${path}.name`),
      inputSchema:
        tool.parameters === undefined || tool.parameters === null
          ? { type: 'object', properties: {} }
          : expectRecord(tool.parameters, `${path}.parameters`),
    };
    const description = optionalString(tool.description, `${path}.description`);
    if (description !== undefined) definition.description = description;
    if (hasFieldsBeyond(tool, ['type', 'name', 'description', 'parameters'])) {
      definition.original = { protocol: 'openai-responses', definition: tool };
    }
    return definition;
  });
}

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (isRecord(value) && value.type === 'function')
    return { type: 'tool', name: expectString(value.name, 'tool_choice.name') };
  if (isRecord(value)) return { type: 'auto' };
  throw invalidRequest('tool_choice', 'expected "auto", "none", "required" or {type: "function", name}');
}
