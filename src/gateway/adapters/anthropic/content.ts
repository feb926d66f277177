import { invalidRequest } from '../../protocol/errors.js';
import {
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalBoolean,
  parseJsonObject,
  type JsonRecord,
} from '../../protocol/read.js';
import type {
  CacheControl,
  ContentPart,
  ImagePart,
  ProviderPart,
  ReasoningPart,
  TextPart,
  ToolNameMap,
} from '../../protocol/types.js';

/** Anthropic content blocks (request history or a response) → neutral parts. */
export function partsFromAnthropicContent(content: unknown, path: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return expectArray(content, path).map((block, index) => partFromAnthropicBlock(block, `${path}[${index}]`));
}

function partFromAnthropicBlock(value: unknown, path: string): ContentPart {
  const block = expectRecord(value, path);
  const cacheControl = readCacheControl(block.cache_control);
  const withCache = <T extends ContentPart>(part: T): T => (cacheControl ? { ...part, cacheControl } : part);
  switch (block.type) {
    case 'text':
      return withCache({ type: 'text', text: expectString(block.text, `${path}.text`) });
    case 'image':
      // Files API images (`source.type: "file"`) only an Anthropic upstream can resolve.
      if (isRecord(block.source) && block.source.type !== 'base64' && block.source.type !== 'url')
        return providerPart(block);
      return withCache(imageFromAnthropic(block, path));
    case 'tool_use':
      return withCache({
        type: 'tool-call',
        id: expectString(block.id, `${path}.id`),
        name: expectString(block.name, `${path}.name`),
        inputJson: JSON.stringify(block.input ?? {}),
      });
    case 'tool_result':
      return withCache({
        type: 'tool-result',
        toolCallId: expectString(block.tool_use_id, `${path}.tool_use_id`),
        content: toolResultContent(block.content, `${path}.content`),
        ...(optionalBoolean(block.is_error, `${path}.is_error`) ? { isError: true } : {}),
      });
    case 'thinking': {
      const part: ReasoningPart = {
        type: 'reasoning',
        text: expectString(block.thinking, `${path}.thinking`),
      };
      if (typeof block.signature === 'string' && block.signature !== '') part.signature = block.signature;
      return part;
    }
    case 'redacted_thinking':
      return { type: 'reasoning', text: '', redactedData: expectString(block.data, `${path}.data`) };
    case 'document':
      return isRecord(block.source) && block.source.type === 'text'
        ? withCache(documentAsText(block, path))
        : providerPart(block);
    default:
      if (typeof block.type !== 'string' || block.type === '')
        throw invalidRequest(`${path}.type`, 'expected a block type');
      // Server-tool blocks (web search, MCP connector, ...) and types newer than this gateway: verbatim.
      return providerPart(block);
  }
}

function providerPart(block: JsonRecord): ProviderPart {
  return { type: 'provider', protocol: 'anthropic-messages', data: block };
}

function imageFromAnthropic(block: JsonRecord, path: string): ImagePart {
  const source = expectRecord(block.source, `${path}.source`);
  if (source.type === 'base64') {
    return {
      type: 'image',
      source: {
        kind: 'base64',
        mediaType: expectString(source.media_type, `${path}.source.media_type`),
        data: expectString(source.data, `${path}.source.data`),
      },
    };
  }
  if (source.type === 'url') {
    return { type: 'image', source: { kind: 'url', url: expectString(source.url, `${path}.source.url`) } };
  }
  throw invalidRequest(`${path}.source.type`, 'expected "base64" or "url" (file ids are not supported)');
}

function documentAsText(block: JsonRecord, path: string): TextPart {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'text' && typeof source.data === 'string') return { type: 'text', text: source.data };
  throw invalidRequest(`${path}.source`, 'only plain-text documents are supported by the Warren gateway');
}

/** `tool_result.content`: a string, or text and image blocks. */
function toolResultContent(value: unknown, path: string): Array<TextPart | ImagePart> {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return expectArray(value, path).map((item, index) => {
    const itemPath = `${path}[${index}]`;
    const block = expectRecord(item, itemPath);
    if (block.type === 'text') return { type: 'text', text: expectString(block.text, `${itemPath}.text`) };
    if (block.type === 'image') return imageFromAnthropic(block, itemPath);
    if (block.type === 'document') return documentAsText(block, itemPath);
    // Search results and the like: keep their content readable rather than fail the whole turn.
    return { type: 'text', text: JSON.stringify(block) };
  });
}

export function readCacheControl(value: unknown): CacheControl | undefined {
  if (!isRecord(value) || value.type !== 'ephemeral') return undefined;
  return typeof value.ttl === 'string' ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' };
}

export interface AnthropicEncodeOptions {
  /** Upstream requests drop what Anthropic would refuse: empty text, unsigned (foreign) reasoning. */
  forUpstream: boolean;
  toolNames?: ToolNameMap;
}

/** Neutral parts → Anthropic content blocks. */
export function anthropicBlocksFromParts(
  parts: ContentPart[],
  options: AnthropicEncodeOptions,
): JsonRecord[] {
  const blocks: JsonRecord[] = [];
  for (const part of parts) {
    const block = anthropicBlockFromPart(part, options);
    if (block === undefined) continue;
    if (part.type !== 'reasoning' && part.type !== 'provider' && part.cacheControl) {
      block.cache_control = { ...part.cacheControl };
    }
    blocks.push(block);
  }
  return blocks;
}

function anthropicBlockFromPart(part: ContentPart, options: AnthropicEncodeOptions): JsonRecord | undefined {
  switch (part.type) {
    case 'provider':
      return part.protocol === 'anthropic-messages' ? { ...part.data } : undefined;
    case 'text':
      return options.forUpstream && part.text === '' ? undefined : { type: 'text', text: part.text };
    case 'image':
      return anthropicImage(part);
    case 'tool-call':
      return {
        type: 'tool_use',
        id: options.forUpstream ? upstreamToolId(part.id) : part.id,
        name: options.toolNames ? options.toolNames.toUpstream(part.name) : part.name,
        input: parseJsonObject(part.inputJson),
      };
    case 'tool-result': {
      const onlyText = part.content.every((item) => item.type === 'text');
      const block: JsonRecord = {
        type: 'tool_result',
        tool_use_id: options.forUpstream ? upstreamToolId(part.toolCallId) : part.toolCallId,
        content: onlyText
          ? part.content.map((item) => (item.type === 'text' ? item.text : '')).join('')
          : part.content.map((item) =>
              item.type === 'text' ? { type: 'text', text: item.text } : anthropicImage(item),
            ),
      };
      if (part.isError) block.is_error = true;
      return block;
    }
    case 'reasoning':
      if (part.redactedData !== undefined && part.text === '')
        return { type: 'redacted_thinking', data: part.redactedData };
      if (part.signature !== undefined)
        return { type: 'thinking', thinking: part.text, signature: part.signature };
      // Reasoning from another provider has no Anthropic signature: Anthropic would refuse it as history.
      if (options.forUpstream || part.text === '') return undefined;
      return { type: 'thinking', thinking: part.text, signature: '' };
  }
}

/**
 * Anthropic accepts tool ids of `[a-zA-Z0-9_-]` only; some OpenAI-compatible servers make ids such as
 * `functions.Read:0` (Kimi). Mapping call and result the same way keeps them paired.
 */
function upstreamToolId(id: string): string {
  return /^[a-zA-Z0-9_-]+$/.test(id) ? id : id.replace(/[^a-zA-Z0-9_-]/g, '_') || 'tool';
}

function anthropicImage(part: ImagePart): JsonRecord {
  const source =
    part.source.kind === 'base64'
      ? { type: 'base64', media_type: part.source.mediaType, data: part.source.data }
      : { type: 'url', url: part.source.url };
  return { type: 'image', source };
}
