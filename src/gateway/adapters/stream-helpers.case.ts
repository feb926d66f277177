/**
 * Test helpers shared by the golden and round-trip suites (`*.case.ts` files are left out of the build).
 */
import { expect } from 'vitest';
import { createSseParser } from '../protocol/sse.js';
import type {
  EncodeContext,
  ModelRequest,
  ProtocolAdapter,
  SseEvent,
  StreamPart,
  Usage,
} from '../protocol/types.js';

export function splitBytes(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

/** Bytes → SSE parser → the adapter's decoder, in chunks of `size` bytes. */
export function decodeStream(adapter: ProtocolAdapter, bytes: Uint8Array, size = bytes.length): StreamPart[] {
  const parser = createSseParser();
  const decoder = adapter.createStreamDecoder();
  const parts: StreamPart[] = [];
  for (const chunk of splitBytes(bytes, Math.max(1, size))) {
    for (const event of parser.push(chunk)) parts.push(...decoder.decode(event));
  }
  for (const event of parser.end()) parts.push(...decoder.decode(event));
  parts.push(...decoder.end());
  return parts;
}

export function parseEvents(text: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(text), ...parser.end()];
}

/** Neutral parts → the adapter's SSE text, including the encoder's closing text. */
export function encodeStream(adapter: ProtocolAdapter, parts: StreamPart[], context: EncodeContext): string {
  const encoder = adapter.createStreamEncoder(context);
  return parts.map((part) => encoder.encode(part)).join('') + encoder.end();
}

export function encodeContext(request: Partial<ModelRequest> = {}): EncodeContext {
  return {
    request: {
      model: 'caller-model',
      system: [],
      messages: [],
      tools: [],
      stream: true,
      streamIncludeUsage: true,
      ...request,
    },
    responseId: 'fixed-response-id',
    createdAt: 1_700_000_000,
  };
}

/** Replaces generated ids (`msg_…`, `fc_…`, `rs_…`, `chatcmpl-…`) so golden output is reproducible. */
export function normalizeIds(text: string): string {
  const seen = new Map<string, string>();
  return text.replace(
    /\b(msg_|fc_|rs_|resp_|chatcmpl-|toolu_|call_)[0-9a-f]{24}\b/g,
    (id, prefix: string) => {
      let replacement = seen.get(id);
      if (replacement === undefined) {
        replacement = `${prefix}generated${seen.size + 1}`;
        seen.set(id, replacement);
      }
      return replacement;
    },
  );
}

export interface StreamSummary {
  text: string;
  reasoning: string;
  tools: Array<{ id: string; name: string; input: string }>;
  finishReason?: string;
  usage?: Usage;
  error?: { status: number | undefined; message: string };
}

/** What a caller sees of a stream, independent of how it was chunked into parts. */
export function summarize(parts: StreamPart[]): StreamSummary {
  const summary: StreamSummary = { text: '', reasoning: '', tools: [] };
  const tools = new Map<string, { id: string; name: string; input: string }>();
  for (const part of parts) {
    if (part.type === 'text-delta') summary.text += part.delta;
    else if (part.type === 'reasoning-delta') summary.reasoning += part.delta;
    else if (part.type === 'tool-input-start') {
      const tool = { id: part.id, name: part.name, input: '' };
      tools.set(part.id, tool);
      summary.tools.push(tool);
    } else if (part.type === 'tool-input-delta') {
      const tool = tools.get(part.id);
      if (tool) tool.input += part.delta;
    } else if (part.type === 'finish') {
      summary.finishReason = part.finishReason;
      summary.usage = part.usage;
    } else if (part.type === 'error') summary.error = { status: part.status, message: part.message };
  }
  return summary;
}

/**
 * The neutral stream contract: every block starts once, gets deltas only while open, ends once; the stream
 * ends with exactly one `finish` or one `error`, and nothing follows it.
 */
export function expectValidLifecycle(parts: StreamPart[]): void {
  const open = new Set<string>();
  const seen = new Set<string>();
  let terminal = 0;
  for (const [position, part] of parts.entries()) {
    expect(terminal, `part ${position} (${part.type}) after the end of the stream`).toBe(0);
    const [noun, verb] = part.type.startsWith('tool-input-')
      ? ['tool', part.type.slice('tool-input-'.length)]
      : (part.type.split('-') as [string, string]);
    if (part.type === 'provider-delta') {
      // May also annotate an open text block (Anthropic citations).
      expect(
        open.has(`provider:${part.id}`) || open.has(`text:${part.id}`),
        `provider-delta for ${part.id} outside a block`,
      ).toBe(true);
    } else if ('id' in part && noun !== 'stream' && ['start', 'delta', 'end'].includes(verb)) {
      const key = `${noun}:${part.id}`;
      if (verb === 'start') {
        expect(seen.has(key), `${key} started twice`).toBe(false);
        seen.add(key);
        open.add(key);
      } else {
        expect(open.has(key), `${part.type} for ${key} outside its block`).toBe(true);
        if (verb === 'end') open.delete(key);
      }
    }
    if (part.type === 'finish') {
      expect([...open], 'blocks still open at finish').toEqual([]);
      terminal += 1;
    }
    if (part.type === 'error') terminal += 1;
  }
  expect(terminal, 'a stream ends with exactly one finish or error').toBe(1);
}

/**
 * Anthropic clients need: `message_start` first; each block's start, deltas and stop before the next block
 * starts, with indexes 0, 1, 2…; then `message_delta` and `message_stop` (or a single `error`).
 */
export function expectAnthropicEventOrder(events: SseEvent[]): void {
  const types = events.map((event) => (JSON.parse(event.data) as { type: string }).type);
  events.forEach((event, position) => expect(event.event).toBe(types[position]));
  if (types[0] === 'error') return expect(types).toEqual(['error']);
  expect(types[0]).toBe('message_start');
  let openIndex: number | undefined;
  let nextIndex = 0;
  for (const [position, event] of events.entries()) {
    const data = JSON.parse(event.data) as { type: string; index?: number };
    if (data.type === 'content_block_start') {
      expect(openIndex, 'a block started while another was open').toBeUndefined();
      expect(data.index).toBe(nextIndex++);
      openIndex = data.index;
    } else if (data.type === 'content_block_delta') {
      expect(data.index).toBe(openIndex);
    } else if (data.type === 'content_block_stop') {
      expect(data.index).toBe(openIndex);
      openIndex = undefined;
    } else if (data.type === 'message_delta') {
      expect(openIndex).toBeUndefined();
      expect(types.slice(position + 1)).toEqual(['message_stop']);
    } else if (data.type === 'error') {
      expect(position).toBe(events.length - 1);
    }
  }
  expect(['message_stop', 'error']).toContain(types[types.length - 1]);
}
