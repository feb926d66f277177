import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ApiProtocol, StreamPart } from '../protocol/types.js';
import { ALL_PROTOCOLS, getAdapter } from './index.js';
import {
  decodeStream,
  encodeContext,
  encodeStream,
  expectAnthropicEventOrder,
  expectValidLifecycle,
  normalizeIds,
  parseEvents,
  summarize,
  type StreamSummary,
} from './stream-helpers.case.js';

const fixtures = fileURLToPath(new URL('../__fixtures__/', import.meta.url));
const PREFIXES: Array<[string, ApiProtocol]> = [
  ['anthropic-', 'anthropic-messages'],
  ['openai-chat-', 'openai-chat'],
  ['responses-', 'openai-responses'],
];

/** What each recorded upstream stream must mean, checked besides the golden files. */
const EXPECTED: Record<string, Partial<StreamSummary>> = {
  'anthropic-text': {
    text: 'Hello, wörld 🌍!',
    finishReason: 'stop',
    usage: { inputTokens: 125, outputTokens: 12, cacheRead: 100, cacheWrite: 0 },
  },
  'anthropic-tool-use': {
    text: 'Let me read both files.',
    tools: [
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'Read', input: '{"file_path": "/workspace/a.ts"}' },
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up7', name: 'Read', input: '{"file_path": "/workspace/b.ts"}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 472, outputTokens: 89 },
  },
  'anthropic-thinking': {
    reasoning: '27 * 453: 27 * 400 = 10800, 27 * 53 = 1431. Total 12231.',
    text: '27 × 453 = 12231',
    finishReason: 'length',
    usage: { inputTokens: 100, outputTokens: 120, cacheRead: 0, cacheWrite: 40 },
  },
  'anthropic-web-search': {
    text: 'Bubblewrap is an unprivileged sandboxing tool.',
    tools: [],
    finishReason: 'stop',
    usage: { inputTokens: 2100, outputTokens: 41 },
  },
  'anthropic-cut-off': { error: { status: 502, message: 'upstream stream ended before message_stop' } },
  'anthropic-overloaded': { text: 'Partial', error: { status: 529, message: 'Overloaded' } },
  'openai-chat-text': {
    text: 'Hello, wörld 🌍!',
    finishReason: 'stop',
    usage: { inputTokens: 125, outputTokens: 12, cacheRead: 100 },
  },
  'openai-chat-parallel-tools': {
    text: 'Let me read both files.',
    tools: [
      { id: 'call_aaa', name: 'Read', input: '{"file_path":"/workspace/a.ts"}' },
      { id: 'call_bbb', name: 'Read', input: '{"file_path":"/workspace/b.ts"}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 472, outputTokens: 89 },
  },
  'openai-chat-repeated-index': {
    tools: [
      { id: 'call_first', name: 'Glob', input: '{"pattern":"**/*.ts"}' },
      { id: 'call_second', name: 'Grep', input: '{"pattern":"TODO"}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 50, outputTokens: 20 },
  },
  'openai-chat-reasoning': {
    reasoning: 'The user wants 2+2. That is 4.',
    text: '4',
    finishReason: 'length',
    usage: { inputTokens: 12, outputTokens: 30, reasoningTokens: 25 },
  },
  'openai-chat-cut-off': {
    text: 'I will',
    tools: [{ id: 'call_cut', name: 'Bash', input: '{"command":"ls' }],
    error: { status: 502, message: 'upstream stream ended before finish_reason' },
  },
  'openai-chat-error': {
    text: 'Partial',
    error: {
      status: 429,
      message: 'Rate limit reached for gpt-4.1 in organization org-x on tokens per min.',
    },
  },
  'responses-text': {
    text: 'Hello, wörld 🌍!',
    finishReason: 'stop',
    usage: { inputTokens: 125, outputTokens: 12, cacheRead: 100 },
  },
  'responses-reasoning-tools': {
    reasoning: '**Listing files** I should look around first.',
    tools: [
      { id: 'call_one', name: 'shell', input: '{"command":["ls","-la"]}' },
      { id: 'call_two', name: 'update_plan', input: '{"plan":[]}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 3000, outputTokens: 150, cacheRead: 2048, reasoningTokens: 64 },
  },
  'responses-failed': {
    text: 'Partial',
    error: { status: 502, message: 'The model failed to generate a response.' },
  },
};

const files = readdirSync(fixtures).filter((name) => name.endsWith('.sse'));

it('has an expectation for every fixture', () => {
  expect(files.map((name) => name.replace(/\.sse$/, '')).sort()).toEqual(Object.keys(EXPECTED).sort());
});

describe.each(files)('fixture %s', (file) => {
  const name = file.replace(/\.sse$/, '');
  const [, upstream] = PREFIXES.find(([prefix]) => name.startsWith(prefix)) as [string, ApiProtocol];
  const bytes = new Uint8Array(readFileSync(fixtures + file));
  const parts = decodeStream(getAdapter(upstream), bytes);

  it('decodes to the expected neutral stream, however the bytes are chunked', async () => {
    expectValidLifecycle(parts);
    expect(summarize(parts)).toMatchObject(EXPECTED[name] as StreamSummary);
    for (const size of [1, 3, 7]) expect(decodeStream(getAdapter(upstream), bytes, size)).toEqual(parts);
    await expect(JSON.stringify(parts, null, 2) + '\n').toMatchFileSnapshot(
      `${fixtures}golden/${name}.parts.json`,
    );
  });

  it.each(ALL_PROTOCOLS)('reaches a %s caller with the same meaning', async (caller) => {
    const text = normalizeIds(encodeStream(getAdapter(caller), parts, encodeContext()));
    await expect(text).toMatchFileSnapshot(`${fixtures}golden/${name}.${caller}.sse`);
    if (caller === 'anthropic-messages') expectAnthropicEventOrder(parseEvents(text));
    // What the caller's own decoder reads back must mean what the upstream said.
    const again: StreamPart[] = decodeStream(getAdapter(caller), new TextEncoder().encode(text), 5);
    expectValidLifecycle(again);
    const original = summarize(parts);
    const seen = summarize(again);
    expect(seen.text).toBe(original.text);
    expect(seen.tools).toEqual(original.tools);
    if (caller !== 'openai-responses' || original.reasoning === '')
      expect(seen.reasoning).toBe(original.reasoning);
    expect(seen.finishReason).toBe(original.finishReason);
    if (original.usage)
      expect(seen.usage).toMatchObject({
        inputTokens: original.usage.inputTokens,
        outputTokens: original.usage.outputTokens,
      });
    expect(seen.error?.message).toBe(original.error?.message);
  });
});
