import { isRecord, parseJsonText, type JsonRecord } from '../../protocol/read.js';
import { identityToolNames } from '../../protocol/tool-names.js';
import type { DecodeContext, SseEvent, StreamDecoder, StreamPart, Usage } from '../../protocol/types.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { openAiStreamError } from '../shared/stream-error.js';
import { finishReasonFromResponse, usageFromResponses } from './usage.js';

interface OpenItem {
  kind: 'text' | 'reasoning' | 'tool';
  /** The neutral id: the item id for text and reasoning, the `call_id` for function calls. */
  id: string;
  sawDelta: boolean;
  summaryParts: number;
  /** A custom tool call: its free text is streamed as the JSON `{"input": "..."}`. */
  freeform?: boolean;
}

/** A piece of free text as it appears inside a JSON string. */
function escapeJsonFragment(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * Responses SSE → neutral parts. Items are followed by `item_id` (and by `output_index` for servers that
 * omit it); an item announced only by `output_item.done` is started and ended there.
 */
export function createResponsesStreamDecoder(context: DecodeContext = {}): StreamDecoder {
  const toolNames = context.toolNames ?? identityToolNames;
  const items = new Map<string, OpenItem>();
  const itemIdsByIndex = new Map<number, string>();
  let usage: Usage = emptyUsage();
  let started = false;
  let done = false;
  let emittedToolCall = false;

  function keyOf(data: JsonRecord): string | undefined {
    if (typeof data.item_id === 'string') return data.item_id;
    return typeof data.output_index === 'number' ? itemIdsByIndex.get(data.output_index) : undefined;
  }

  function startItem(item: JsonRecord, outputIndex: unknown, parts: StreamPart[]): OpenItem | undefined {
    const key = typeof item.id === 'string' ? item.id : `item-${items.size}`;
    if (typeof outputIndex === 'number') itemIdsByIndex.set(outputIndex, key);
    let open: OpenItem | undefined;
    if (item.type === 'message') {
      open = { kind: 'text', id: key, sawDelta: false, summaryParts: 0 };
      parts.push({ type: 'text-start', id: key });
    } else if (item.type === 'reasoning') {
      open = { kind: 'reasoning', id: key, sawDelta: false, summaryParts: 0 };
      parts.push({ type: 'reasoning-start', id: key });
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      emittedToolCall = true;
      open = { kind: 'tool', id: String(item.call_id ?? key), sawDelta: false, summaryParts: 0 };
      parts.push({
        type: 'tool-input-start',
        id: open.id,
        name: toolNames.fromUpstream(String(item.name ?? '')),
      });
      if (item.type === 'custom_tool_call') {
        open.freeform = true;
        parts.push({ type: 'tool-input-delta', id: open.id, delta: '{"input":"' });
      }
    }
    if (open) items.set(key, open);
    return open;
  }

  function endItem(item: JsonRecord, outputIndex: unknown, parts: StreamPart[]): void {
    const key =
      typeof item.id === 'string'
        ? item.id
        : typeof outputIndex === 'number'
          ? itemIdsByIndex.get(outputIndex)
          : undefined;
    const open = (key !== undefined ? items.get(key) : undefined) ?? startItem(item, outputIndex, parts);
    if (!open) return;
    if (key !== undefined) items.delete(key);
    if (open.kind === 'text') {
      if (!open.sawDelta) {
        for (const entry of Array.isArray(item.content) ? item.content : []) {
          const text = isRecord(entry) ? (entry.type === 'refusal' ? entry.refusal : entry.text) : undefined;
          if (typeof text === 'string' && text !== '')
            parts.push({ type: 'text-delta', id: open.id, delta: text });
        }
      }
      parts.push({ type: 'text-end', id: open.id });
    } else if (open.kind === 'reasoning') {
      if (!open.sawDelta && Array.isArray(item.summary)) {
        const text = item.summary
          .map((entry) => (isRecord(entry) && typeof entry.text === 'string' ? entry.text : ''))
          .join('\n\n');
        if (text !== '') parts.push({ type: 'reasoning-delta', id: open.id, delta: text });
      }
      const end: StreamPart = { type: 'reasoning-end', id: open.id, itemId: open.id };
      if (typeof item.encrypted_content === 'string') end.encryptedContent = item.encrypted_content;
      parts.push(end);
    } else if (open.freeform) {
      if (!open.sawDelta && typeof item.input === 'string' && item.input !== '') {
        parts.push({ type: 'tool-input-delta', id: open.id, delta: escapeJsonFragment(item.input) });
      }
      parts.push(
        { type: 'tool-input-delta', id: open.id, delta: '"}' },
        { type: 'tool-input-end', id: open.id },
      );
    } else {
      if (!open.sawDelta && typeof item.arguments === 'string' && item.arguments !== '') {
        parts.push({ type: 'tool-input-delta', id: open.id, delta: item.arguments });
      }
      parts.push({ type: 'tool-input-end', id: open.id });
    }
  }

  function delta(data: JsonRecord, kind: OpenItem['kind'], text: unknown, parts: StreamPart[]): void {
    const key = keyOf(data);
    const open = key !== undefined ? items.get(key) : undefined;
    if (!open || open.kind !== kind || typeof text !== 'string' || text === '') return;
    open.sawDelta = true;
    if (open.freeform) parts.push({ type: 'tool-input-delta', id: open.id, delta: escapeJsonFragment(text) });
    else if (kind === 'text') parts.push({ type: 'text-delta', id: open.id, delta: text });
    else if (kind === 'reasoning') parts.push({ type: 'reasoning-delta', id: open.id, delta: text });
    else parts.push({ type: 'tool-input-delta', id: open.id, delta: text });
  }

  function finish(response: JsonRecord): StreamPart[] {
    const parts: StreamPart[] = [];
    for (const [key, open] of items) endItem({ id: key, type: open.kind }, undefined, parts);
    done = true;
    usage = mergeUsage(usage, usageFromResponses(response.usage));
    const reason = finishReasonFromResponse(response.status, response.incomplete_details);
    parts.push({ type: 'finish', finishReason: finishReasonWithToolCalls(reason, emittedToolCall), usage });
    return parts;
  }

  return {
    decode(event: SseEvent): StreamPart[] {
      if (done) return [];
      const data = parseJsonText(event.data);
      if (!isRecord(data)) return [];
      const parts: StreamPart[] = [];
      const response = isRecord(data.response) ? data.response : {};
      if (!started && data.type !== 'error') {
        started = true;
        parts.push({
          type: 'stream-start',
          id: String(response.id ?? ''),
          model: String(response.model ?? ''),
        });
      }
      switch (data.type) {
        case 'response.output_item.added':
          if (isRecord(data.item)) startItem(data.item, data.output_index, parts);
          break;
        case 'response.output_item.done':
          if (isRecord(data.item)) endItem(data.item, data.output_index, parts);
          break;
        case 'response.output_text.delta':
        case 'response.refusal.delta':
          delta(data, 'text', data.delta, parts);
          break;
        case 'response.reasoning_summary_part.added': {
          const open = items.get(keyOf(data) ?? '');
          if (open && open.summaryParts++ > 0) delta(data, 'reasoning', '\n\n', parts);
          break;
        }
        case 'response.reasoning_summary_text.delta':
        case 'response.reasoning_text.delta':
          delta(data, 'reasoning', data.delta, parts);
          break;
        case 'response.function_call_arguments.delta':
        case 'response.custom_tool_call_input.delta':
          delta(data, 'tool', data.delta, parts);
          break;
        case 'response.completed':
        case 'response.incomplete':
          return [...parts, ...finish(response)];
        case 'response.failed': {
          done = true;
          parts.push(openAiStreamError(response.error ?? { message: 'upstream response failed' }));
          break;
        }
        case 'error':
          done = true;
          parts.push(openAiStreamError(isRecord(data.error) ? data.error : data));
          break;
        default:
          break;
      }
      return parts;
    },
    end(): StreamPart[] {
      if (done) return [];
      done = true;
      return [
        {
          type: 'error',
          status: 502,
          kind: 'upstream',
          message: 'upstream stream ended before response.completed',
        },
      ];
    },
  };
}
