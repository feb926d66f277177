/**
 * The gateway must never crash on bad input or a bad upstream. Random and mutated values are thrown at
 * every adapter entry point: parsers may only refuse with a GatewayError, decoders may only emit parts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../protocol/errors.js';
import type { StreamPart } from '../protocol/types.js';
import { ALL_PROTOCOLS, getAdapter } from './index.js';
import { parseEvents } from './stream-helpers.case.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'type',
  'role',
  'content',
  'text',
  'id',
  'name',
  'input',
  'arguments',
  'tool_calls',
  'delta',
  'index',
  'choices',
  'item',
  'output',
  'usage',
  'messages',
  'model',
  'source',
  'call_id',
  'error',
  'response',
  'output_index',
  'item_id',
];
const STRINGS = [
  'text',
  'tool_use',
  'tool_result',
  'message',
  'function_call',
  'user',
  'assistant',
  'image',
  'thinking',
  'content_block_delta',
  'input_json_delta',
  'response.output_item.added',
  'message_start',
  '',
  '💥',
];

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 4 || pick < 0.15) return [null, true, 0, -1, 1e308, 'x'][Math.floor(next() * 6)];
  if (pick < 0.35) return STRINGS[Math.floor(next() * STRINGS.length)];
  if (pick < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const record: Record<string, unknown> = {};
  for (let count = Math.floor(next() * 5); count > 0; count -= 1) {
    record[KEYS[Math.floor(next() * KEYS.length)] as string] = randomValue(next, depth + 1);
  }
  return record;
}

/** Replaces one nested value of a valid document by a random one. */
function mutate(value: unknown, next: () => number): unknown {
  if (Array.isArray(value) && value.length > 0) {
    const copy = [...value];
    const index = Math.floor(next() * copy.length);
    copy[index] = next() < 0.3 ? randomValue(next, 2) : mutate(copy[index], next);
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const key = keys[Math.floor(next() * keys.length)] ?? 'type';
    copy[key] = next() < 0.3 ? randomValue(next, 2) : mutate(copy[key], next);
    return copy;
  }
  return randomValue(next, 3);
}

const fixtures = fileURLToPath(new URL('../__fixtures__/', import.meta.url));
const recordedEvents = readdirSync(fixtures)
  .filter((name) => name.endsWith('.sse'))
  .flatMap((name) => parseEvents(readFileSync(fixtures + name, 'utf8')))
  .flatMap((event) => (event.data === '[DONE]' ? [] : [JSON.parse(event.data) as unknown]));

const validBodies: Record<string, unknown> = {
  'anthropic-messages': {
    model: 'm',
    max_tokens: 10,
    system: [{ type: 'text', text: 's' }],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'r' }] }],
      },
    ],
    tools: [{ name: 'f', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any' },
  },
  'openai-chat': {
    model: 'm',
    messages: [
      { role: 'system', content: 's' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't', content: 'r' },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    tool_choice: 'required',
  },
  'openai-responses': {
    model: 'm',
    instructions: 's',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'function_call', call_id: 't', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 't', output: 'r' },
      { type: 'reasoning', id: 'rs', summary: [{ type: 'summary_text', text: 'x' }] },
    ],
    tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
  },
};

describe.each(ALL_PROTOCOLS)('%s never crashes', (protocol) => {
  const adapter = getAdapter(protocol);

  it('parseRequest refuses mutated and random bodies only with a GatewayError', () => {
    const next = random(1);
    const outcomes = { parsed: 0, refused: 0 };
    for (let round = 0; round < 3000; round += 1) {
      const body = round % 4 === 0 ? randomValue(next, 0) : mutate(validBodies[protocol], next);
      try {
        const request = adapter.parseRequest(body);
        // Whatever parses must also translate for every upstream protocol.
        for (const upstream of ALL_PROTOCOLS)
          JSON.stringify(getAdapter(upstream).buildUpstreamRequest(request, 'x').body);
        outcomes.parsed += 1;
      } catch (error) {
        if (!isGatewayError(error))
          throw new Error(`${String(error)} for body ${JSON.stringify(body)}`, { cause: error });
        expect(error.status).toBe(400);
        outcomes.refused += 1;
      }
    }
    // Both paths must have been exercised for the test to mean anything.
    expect(outcomes.parsed).toBeGreaterThan(300);
    expect(outcomes.refused).toBeGreaterThan(300);
  });

  it('stream decoders and encoders survive mutated upstream events', () => {
    const next = random(2);
    for (let round = 0; round < 300; round += 1) {
      const decoder = adapter.createStreamDecoder();
      const parts: StreamPart[] = [];
      for (let count = 0; count < 12; count += 1) {
        const event = recordedEvents[Math.floor(next() * recordedEvents.length)];
        const data = next() < 0.5 ? mutate(event, next) : event;
        parts.push(...decoder.decode({ data: next() < 0.05 ? '{"truncated' : JSON.stringify(data) }));
      }
      parts.push(...decoder.end());
      expect(parts.filter((part) => part.type === 'finish' || part.type === 'error')).toHaveLength(1);
      for (const caller of ALL_PROTOCOLS) {
        const encoder = getAdapter(caller).createStreamEncoder({
          request: { model: 'm', system: [], messages: [], tools: [], stream: true },
        });
        for (const part of parts) encoder.encode(part);
        encoder.end();
      }
    }
  });

  it('decodeUpstreamResponse refuses with a GatewayError, decodeUpstreamError always answers', () => {
    const next = random(3);
    for (let round = 0; round < 1000; round += 1) {
      const body = randomValue(next, 0);
      try {
        adapter.decodeUpstreamResponse(body);
      } catch (error) {
        expect(isGatewayError(error), String(error)).toBe(true);
      }
      const info = adapter.decodeUpstreamError(500, body);
      expect(typeof info.message).toBe('string');
    }
  });
});

describe('an error body in a successful answer', () => {
  it.each([
    [
      'anthropic-messages',
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      529,
      'Overloaded',
    ],
    [
      'openai-chat',
      { error: { message: 'Rate limit reached', type: 'tokens', code: 'rate_limit_exceeded' } },
      429,
      'Rate limit reached',
    ],
    ['openai-chat', { error: 'model not loaded' }, 502, 'model not loaded'],
    [
      'openai-responses',
      {
        id: 'r',
        status: 'failed',
        output: [],
        object: 'response',
        error: { code: 'server_error', message: 'boom' },
      },
      502,
      'boom',
    ],
  ] as const)('%s: becomes the error it describes', (protocol, body, status, message) => {
    let thrown: unknown;
    try {
      getAdapter(protocol).decodeUpstreamResponse(body);
    } catch (error) {
      thrown = error;
    }
    expect(isGatewayError(thrown) && thrown.toInfo()).toMatchObject({ status, message });
  });
});
