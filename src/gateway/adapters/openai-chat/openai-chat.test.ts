import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../protocol/types.js';
import { runRoundTripSuite } from '../round-trip.case.js';
import {
  encodeContext,
  encodeStream,
  expectValidLifecycle,
  parseEvents,
  summarize,
} from '../stream-helpers.case.js';
import { createOpenAiChatStreamDecoder } from './decode-stream.js';
import { openAiChatAdapter } from './index.js';

runRoundTripSuite(openAiChatAdapter, {
  skips: {
    'top-k': 'chat completions has no top_k',
    'stop-sequence-reported': 'chat completions does not say which stop sequence matched',
    'cache-control': 'OpenAI caches prompts automatically; there are no markers',
    'tool-result-error-flag': 'tool messages have no error flag; the text is prefixed with "Error: " instead',
    'image-in-tool-result': 'tool messages carry text only; images move to a following user message',
    'reasoning-in-requests': 'reasoning is not sent back: several servers refuse reasoning_content in input',
    'reasoning-budget': 'chat completions takes an effort, not a budget',
    'several-system-parts': 'system parts are joined into one leading system message for chat templates',
  },
  invalidBodies: [
    { model: 'm' },
    { model: 'm', messages: [{ role: 'robot', content: 'x' }] },
    { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] },
    { model: 'm', messages: [{ role: 'tool', content: 'x' }] },
    { model: 'm', messages: [], n: 3 },
    { model: 'm', messages: [], reasoning_effort: 42 },
  ],
});

function decodeChunks(chunks: unknown[]): StreamPart[] {
  const decoder = createOpenAiChatStreamDecoder();
  return [
    ...chunks.flatMap((chunk) =>
      decoder.decode({ data: typeof chunk === 'string' ? chunk : JSON.stringify(chunk) }),
    ),
    ...decoder.end(),
  ];
}

const delta = (value: Record<string, unknown>, finish: string | null = null) => ({
  choices: [{ index: 0, delta: value, finish_reason: finish }],
});

describe('chat completions stream decoder quirks', () => {
  it('holds arguments that arrive before the tool name', () => {
    const parts = decodeChunks([
      delta({ tool_calls: [{ index: 0, id: 'call_1', function: { arguments: '{"a":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '1}' } }] }),
      delta({}, 'tool_calls'),
      '[DONE]',
    ]);
    expectValidLifecycle(parts);
    expect(summarize(parts).tools).toEqual([{ id: 'call_1', name: 'f', input: '{"a":1}' }]);
  });

  it('invents ids for servers that send none, and accepts arguments as an object', () => {
    const parts = decodeChunks([
      delta({ tool_calls: [{ index: 0, function: { name: 'f', arguments: { a: 1 } } }] }),
      delta({ tool_calls: [{ index: 1, function: { name: 'g', arguments: '{}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(summarize(parts).tools).toEqual([
      { id: 'call_0', name: 'f', input: '{"a":1}' },
      { id: 'call_1', name: 'g', input: '{}' },
    ]);
  });

  it('reads `reasoning` (Ollama, OpenRouter) like `reasoning_content`, and usage in the last choice chunk', () => {
    const parts = decodeChunks([
      delta({ reasoning: 'think' }),
      delta({ content: 'answer' }),
      { ...delta({}, 'stop'), usage: { prompt_tokens: 3, completion_tokens: 4 } },
      '[DONE]',
    ]);
    expectValidLifecycle(parts);
    expect(summarize(parts)).toMatchObject({
      reasoning: 'think',
      text: 'answer',
      finishReason: 'stop',
      usage: { inputTokens: 3, outputTokens: 4 },
    });
  });

  it('treats [DONE] without a finish_reason as a normal stop, and ignores junk lines', () => {
    const parts = decodeChunks([delta({ content: 'hi' }), 'not json', ': comment', '[DONE]']);
    expect(summarize(parts)).toMatchObject({ text: 'hi', finishReason: 'stop' });
  });
});

describe('chat completions stream encoder', () => {
  const parts: StreamPart[] = [
    { type: 'tool-input-start', id: 'call_x', name: 'f' },
    { type: 'tool-input-start', id: 'call_y', name: 'g' },
    { type: 'tool-input-delta', id: 'call_y', delta: '{}' },
    { type: 'tool-input-delta', id: 'call_x', delta: '{}' },
    { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2 } },
  ];

  it('numbers tool calls by first appearance and reports tool_calls as the finish reason', () => {
    const chunks = parseEvents(encodeStream(openAiChatAdapter, parts, encodeContext()))
      .filter((event) => event.data !== '[DONE]')
      .map(
        (event) =>
          JSON.parse(event.data) as {
            choices: Array<{
              delta: { role?: string; tool_calls?: Array<{ index: number; id?: string }> };
              finish_reason: string | null;
            }>;
          },
      );
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((call) => [call.index, call.id])).toEqual([
      [0, 'call_x'],
      [1, 'call_y'],
      [1, undefined],
      [0, undefined],
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('sends the usage chunk only when the caller asked for it', () => {
    const withUsage = encodeStream(openAiChatAdapter, parts, encodeContext({ streamIncludeUsage: true }));
    const without = encodeStream(openAiChatAdapter, parts, encodeContext({ streamIncludeUsage: false }));
    expect(withUsage).toContain('"choices":[],"usage"');
    expect(without).not.toContain('"usage"');
    expect(without.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
