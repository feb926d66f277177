import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../protocol/estimate-tokens.js';
import type { StreamPart } from '../../protocol/types.js';
import { runRoundTripSuite } from '../round-trip.case.js';
import { getAdapter } from '../index.js';
import {
  decodeStream,
  encodeContext,
  encodeStream,
  expectAnthropicEventOrder,
  parseEvents,
} from '../stream-helpers.case.js';
import { anthropicMessagesAdapter } from './index.js';
import { parseAnthropicRequest } from './parse-request.js';

runRoundTripSuite(anthropicMessagesAdapter, {
  skips: {
    'image-detail': 'Anthropic images have no detail hint',
    'reasoning-effort':
      'an effort comes back with the thinking it was sent with (adaptive, or a budget for older models)',
    verbosity: 'Anthropic has no verbosity setting; it is left out with a note',
    'response-format': 'Anthropic has no JSON mode; the format becomes an instruction in the system prompt',
  },
  reasoningPart: { type: 'reasoning', text: 'Let me think.', signature: 'sig-abc' },
  invalidBodies: [
    { model: 'm' },
    { model: 'm', max_tokens: 10, messages: [{ role: 'robot', content: 'x' }] },
    { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 42, url: 'x' }] }] },
    { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
    { model: 'm', max_tokens: '10', messages: [] },
    { model: 'm', messages: [], tool_choice: { type: 'sometimes' } },
  ],
});

describe('Anthropic stream encoder', () => {
  const request = parseAnthropicRequest({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    system: 'You are terse. '.repeat(50),
    messages: [{ role: 'user', content: 'Summarise the repository layout for me, please.' }],
  });

  function events(parts: StreamPart[]): Array<{ type: string } & Record<string, unknown>> {
    return parseEvents(encodeStream(anthropicMessagesAdapter, parts, { request, responseId: 'msg_1' })).map(
      (event) => JSON.parse(event.data) as { type: string } & Record<string, unknown>,
    );
  }

  it('serializes interleaved parallel tool calls into one block after another', () => {
    const text = encodeStream(
      anthropicMessagesAdapter,
      [
        { type: 'tool-input-start', id: 'a', name: 'Read' },
        { type: 'tool-input-start', id: 'b', name: 'Read' },
        { type: 'tool-input-delta', id: 'b', delta: '{"path":"b"}' },
        { type: 'tool-input-delta', id: 'a', delta: '{"path":"a"}' },
        { type: 'tool-input-end', id: 'b' },
        { type: 'text-delta', id: 'late', delta: 'text without a start' },
        { type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 5 } },
      ],
      { request },
    );
    expectAnthropicEventOrder(parseEvents(text));
    const blocks = parseEvents(text)
      .map(
        (event) => JSON.parse(event.data) as { type: string; content_block?: { id?: string; type: string } },
      )
      .flatMap((event) => (event.content_block ? [event.content_block.id ?? event.content_block.type] : []));
    expect(blocks).toEqual(['a', 'b', 'text']);
    // A tool call was emitted, so the caller must see tool_use even though the upstream said stop.
    expect(text).toContain('"stop_reason":"tool_use"');
  });

  it('estimates input tokens for message_start when the upstream reports none until the end', () => {
    const sent = events([
      { type: 'stream-start', id: 'x', model: 'gpt' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'ok' },
      { type: 'text-end', id: 't' },
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 321, outputTokens: 2 } },
    ]);
    const start = sent[0]?.message as { usage: { input_tokens: number } };
    expect(start.usage.input_tokens).toBe(estimateTokens(request));
    expect(start.usage.input_tokens).toBeGreaterThan(50);
    expect(sent.find((event) => event.type === 'message_delta')?.usage).toMatchObject({
      input_tokens: 321,
      output_tokens: 2,
    });
  });

  it('keeps the estimate when the upstream never reports usage, and the upstream count when it does at start', () => {
    const silent = events([
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 } },
    ]);
    expect(silent.find((event) => event.type === 'message_delta')?.usage).toMatchObject({
      input_tokens: estimateTokens(request),
    });
    const counted = events([
      { type: 'stream-start', id: 'x', model: 'claude', usage: { inputTokens: 900, cacheRead: 800 } },
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 900, outputTokens: 1, cacheRead: 800 } },
    ]);
    expect((counted[0]?.message as { usage: unknown }).usage).toMatchObject({
      input_tokens: 100,
      cache_read_input_tokens: 800,
    });
  });

  it('sends an error event, not a half-closed message, when the stream ends early', () => {
    const sent = events([
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'par' },
    ]);
    expect(sent.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'error',
    ]);
    expect(sent[3]).toMatchObject({
      error: { type: 'api_error', message: expect.stringMatching(/ended before/) },
    });
  });

  it('passes thinking signatures and redacted thinking through', () => {
    const sent = events([
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'hmm' },
      { type: 'reasoning-end', id: 'r', signature: 'sig' },
      { type: 'reasoning-start', id: 'x', redactedData: 'opaque' },
      { type: 'reasoning-end', id: 'x' },
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } },
    ]);
    expect(sent.filter((event) => event.type === 'content_block_delta').map((event) => event.delta)).toEqual([
      { type: 'thinking_delta', thinking: 'hmm' },
      { type: 'signature_delta', signature: 'sig' },
    ]);
    expect(
      sent.filter((event) => event.type === 'content_block_start').map((event) => event.content_block),
    ).toEqual([
      { type: 'thinking', thinking: '' },
      { type: 'redacted_thinking', data: 'opaque' },
    ]);
  });
});

describe('Anthropic blocks with no neutral form (server tools such as web search)', () => {
  const fixture = new Uint8Array(
    readFileSync(new URL('../../__fixtures__/anthropic-web-search.sse', import.meta.url)),
  );

  it('reach an Anthropic caller intact, as the SDK accumulates them', async () => {
    const parts = decodeStream(anthropicMessagesAdapter, fixture, 11);
    const sse = encodeStream(anthropicMessagesAdapter, parts, encodeContext());
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://127.0.0.1:9',
      maxRetries: 0,
      fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }),
    });
    const message = await client.messages
      .stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'q' }] })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual([
      'server_tool_use',
      'web_search_tool_result',
      'text',
    ]);
    expect(message.content[0]).toMatchObject({ name: 'web_search', input: { query: 'bubblewrap sandbox' } });
    expect(message.content[1]).toMatchObject({ tool_use_id: 'srvtoolu_01WYG3ziw53XMcoyKL4XcZmE' });
    expect(message.content[2]).toMatchObject({
      citations: [{ type: 'web_search_result_location', url: 'https://example.invalid/bubblewrap' }],
    });
  });

  it('are dropped for callers of other protocols, which keep the text', () => {
    const parts = decodeStream(anthropicMessagesAdapter, fixture);
    const sse = encodeStream(getAdapter('openai-chat'), parts, encodeContext());
    expect(sse).not.toContain('web_search');
    expect(sse).toContain('Bubblewrap is an unprivileged sandboxing tool.');
  });

  it('go back to an Anthropic upstream in the history, and not to others', () => {
    const body = {
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'search' },
        {
          role: 'assistant',
          content: [
            { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: { query: 'x' } },
            { type: 'web_search_tool_result', tool_use_id: 'srv_1', content: [] },
            { type: 'text', text: 'Found nothing.' },
          ],
        },
        { role: 'user', content: 'thanks' },
      ],
    };
    const request = parseAnthropicRequest(body);
    const anthropicBody = anthropicMessagesAdapter.buildUpstreamRequest(request, 'm').body as {
      messages: unknown[];
    };
    expect(anthropicBody.messages[1]).toEqual(body.messages[1]);
    const chatBody = getAdapter('openai-chat').buildUpstreamRequest(request, 'm').body as {
      messages: unknown[];
    };
    expect(chatBody.messages[1]).toEqual({ role: 'assistant', content: 'Found nothing.' });
  });
});

describe('Anthropic stop reasons without a neutral equivalent', () => {
  it.each(['pause_turn', 'model_context_window_exceeded', 'stop_sequence'])(
    '%s reaches an Anthropic caller as is',
    (stopReason) => {
      const sse =
        `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}\n\n` +
        `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"${stopReason}","stop_sequence":${stopReason === 'stop_sequence' ? '"END"' : 'null'}},"usage":{"output_tokens":2}}\n\n` +
        `event: message_stop\ndata: {"type":"message_stop"}\n\n`;
      const parts = decodeStream(anthropicMessagesAdapter, new TextEncoder().encode(sse));
      expect(encodeStream(anthropicMessagesAdapter, parts, encodeContext())).toContain(
        `"stop_reason":"${stopReason}"`,
      );
      const answer = anthropicMessagesAdapter.decodeUpstreamResponse({
        id: 'msg_1',
        model: 'm',
        content: [],
        stop_reason: stopReason,
        usage: {},
      });
      expect(anthropicMessagesAdapter.encodeResponse(answer, encodeContext())).toMatchObject({
        stop_reason: stopReason,
      });
    },
  );
});
