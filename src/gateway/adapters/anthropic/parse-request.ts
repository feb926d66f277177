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
} from '../../protocol/read.js';
import type {
  ModelMessage,
  ModelRequest,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
} from '../../protocol/types.js';
import { unknownFields } from '../shared/provider-options.js';
import { readSampling } from '../shared/sampling.js';
import { parseEffort, readServiceTier } from '../shared/settings.js';
import { partsFromAnthropicContent, readCacheControl } from './content.js';

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'tools',
  'tool_choice',
  'thinking',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'stream',
  'metadata',
  'service_tier',
]);

/** A `POST /v1/messages` (or `count_tokens`) body → neutral request. `max_tokens` may be absent. */
export function parseAnthropicRequest(body: unknown): ModelRequest {
  const record = expectRecord(body, 'body');
  const request: ModelRequest = {
    model: expectString(record.model, 'model'),
    system: parseSystem(record.system),
    messages: expectArray(record.messages, 'messages').map(parseMessage),
    tools:
      record.tools === undefined || record.tools === null
        ? []
        : expectArray(record.tools, 'tools').map(parseTool),
    stream: optionalBoolean(record.stream, 'stream') ?? false,
  };
  const maxTokens = optionalNumber(record.max_tokens, 'max_tokens');
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  readSampling(record, request);
  const topK = optionalNumber(record.top_k, 'top_k');
  if (topK !== undefined) request.topK = topK;
  const stopSequences = optionalStringList(record.stop_sequences, 'stop_sequences');
  if (stopSequences !== undefined && stopSequences.length > 0) request.stopSequences = stopSequences;
  parseToolChoice(record.tool_choice, request);
  parseThinking(record.thinking, request);
  parseOutputConfig(record.output_config, request);
  readServiceTier(record, 'anthropic-messages', request);
  if (isRecord(record.metadata)) {
    const userId = optionalString(record.metadata.user_id, 'metadata.user_id');
    if (userId !== undefined) request.metadata = { userId };
  }
  // `output_config` stays among the unread fields too: an Anthropic upstream gets it as written.
  const extra = unknownFields(record, KNOWN_FIELDS, 'anthropic-messages');
  // A thinking setting beyond a type and a budget (`display`, a newer field) also goes verbatim to Anthropic.
  if (isRecord(record.thinking) && !isPlainThinking(record.thinking)) {
    request.providerOptions = {
      protocol: 'anthropic-messages',
      options: { ...extra?.options, thinking: record.thinking },
    };
  } else if (extra) {
    request.providerOptions = extra;
  }
  return request;
}

function isPlainThinking(thinking: Record<string, unknown>): boolean {
  return Object.keys(thinking).every((key) => key === 'type' || key === 'budget_tokens');
}

function parseSystem(value: unknown): TextPart[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value === '' ? [] : [{ type: 'text', text: value }];
  return expectArray(value, 'system').map((item, index) => {
    const block = expectRecord(item, `system[${index}]`);
    if (block.type !== 'text') throw invalidRequest(`system[${index}].type`, 'expected "text"');
    const part: TextPart = { type: 'text', text: expectString(block.text, `system[${index}].text`) };
    const cacheControl = readCacheControl(block.cache_control);
    if (cacheControl) part.cacheControl = cacheControl;
    return part;
  });
}

function parseMessage(value: unknown, index: number): ModelMessage {
  const path = `messages[${index}]`;
  const message = expectRecord(value, path);
  // Claude Code puts its environment in a `system` message inside the conversation.
  if (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system') {
    throw invalidRequest(`${path}.role`, 'expected "user", "assistant" or "system"');
  }
  const parsed: ModelMessage = {
    role: message.role,
    content: partsFromAnthropicContent(message.content, `${path}.content`),
  };
  const extra = unknownFields(message, MESSAGE_FIELDS, 'anthropic-messages');
  if (extra) parsed.providerOptions = extra;
  return parsed;
}

const MESSAGE_FIELDS: ReadonlySet<string> = new Set(['role', 'content']);

const NEUTRAL_TOOL_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'description',
  'input_schema',
  'cache_control',
  'type',
]);

function parseTool(value: unknown, index: number): ToolDefinition {
  const path = `tools[${index}]`;
  const tool = expectRecord(value, path);
  const name = expectString(tool.name, `${path}.name`);
  // Server tools (web search, code execution, ...) have a versioned type and no input_schema.
  if (tool.input_schema === undefined && tool.type !== undefined && tool.type !== 'custom') {
    return { name, inputSchema: {}, providerDefined: { protocol: 'anthropic-messages', definition: tool } };
  }
  const definition: ToolDefinition = {
    name,
    inputSchema: expectRecord(tool.input_schema, `${path}.input_schema`),
  };
  const description = optionalString(tool.description, `${path}.description`);
  if (description !== undefined) definition.description = description;
  const cacheControl = readCacheControl(tool.cache_control);
  if (cacheControl) definition.cacheControl = cacheControl;
  // Fields such as `defer_loading` or `input_examples` only an Anthropic upstream understands.
  if (Object.keys(tool).some((key) => !NEUTRAL_TOOL_FIELDS.has(key))) {
    definition.original = { protocol: 'anthropic-messages', definition: tool };
  }
  return definition;
}

function parseToolChoice(value: unknown, request: ModelRequest): void {
  if (value === undefined || value === null) return;
  const choice = expectRecord(value, 'tool_choice');
  const toolChoice = toolChoiceFromAnthropic(choice.type, choice.name);
  if (toolChoice) request.toolChoice = toolChoice;
  if (optionalBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use')) {
    request.parallelToolCalls = false;
  }
}

function toolChoiceFromAnthropic(type: unknown, name: unknown): ToolChoice | undefined {
  switch (type) {
    case 'auto':
      return { type: 'auto' };
    case 'any':
      return { type: 'required' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      return { type: 'tool', name: expectString(name, 'tool_choice.name') };
    default:
      throw invalidRequest('tool_choice.type', 'expected "auto", "any", "tool" or "none"');
  }
}

/**
 * `thinking`: a budget (`enabled`), off (`disabled`), or left to the model (`adaptive`, `between_tools`).
 * A type this gateway does not know yet is kept as written: Anthropic upstreams get it verbatim.
 */
function parseThinking(value: unknown, request: ModelRequest): void {
  if (value === undefined || value === null) return;
  const thinking = expectRecord(value, 'thinking');
  const type = expectString(thinking.type, 'thinking.type');
  if (type === 'enabled') {
    const budgetTokens = optionalNumber(thinking.budget_tokens, 'thinking.budget_tokens');
    request.reasoning = budgetTokens === undefined ? {} : { budgetTokens };
    return;
  }
  request.reasoning = { thinking: type };
}

/** `output_config`: the effort (all of the answer's tokens, thinking included) and a JSON output format. */
function parseOutputConfig(value: unknown, request: ModelRequest): void {
  if (value === undefined || value === null) return;
  const config = expectRecord(value, 'output_config');
  const effort = parseEffort(config.effort, 'output_config.effort');
  if (effort !== undefined) request.reasoning = { ...request.reasoning, effort };
  if (isRecord(config.format) && config.format.type === 'json_schema') {
    const format: ResponseFormat = { type: 'json' };
    if (config.format.schema !== undefined)
      format.schema = expectRecord(config.format.schema, 'output_config.format.schema');
    request.responseFormat = format;
  }
}
