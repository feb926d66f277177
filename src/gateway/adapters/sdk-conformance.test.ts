/**
 * The encoders' output read by the official SDKs (`@anthropic-ai/sdk`, `openai`), which accumulate streams
 * the way agents do: every recorded upstream stream, re-encoded for each caller protocol, must give the SDK
 * the same text, tool calls (with parsed arguments), stop reason and usage. The SDKs get a `fetch` that
 * returns the encoded body, so no socket is opened; the gateway's end-to-end tests cover the HTTP side.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ApiProtocol, ModelResponse } from '../protocol/types.js';
import { getAdapter } from './index.js';
import { decodeStream, encodeContext, encodeStream, summarize } from './stream-helpers.case.js';

const fixtures = fileURLToPath(new URL('../__fixtures__/', import.meta.url));
const upstreamOf = (name: string): ApiProtocol =>
  name.startsWith('anthropic-')
    ? 'anthropic-messages'
    : name.startsWith('openai-chat-')
      ? 'openai-chat'
      : 'openai-responses';

function fetchReturning(body: string, contentType: string, status = 200): typeof fetch {
  return async () => new Response(body, { status, headers: { 'content-type': contentType } });
}

const anthropicFor = (body: string, contentType = 'text/event-stream', status = 200) =>
  new Anthropic({
    apiKey: 'k',
    baseURL: 'http://127.0.0.1:9',
    maxRetries: 0,
    fetch: fetchReturning(body, contentType, status),
  });
const openAiFor = (body: string, contentType = 'text/event-stream', status = 200) =>
  new OpenAI({
    apiKey: 'k',
    baseURL: 'http://127.0.0.1:9/v1',
    maxRetries: 0,
    fetch: fetchReturning(body, contentType, status),
  });

const files = readdirSync(fixtures).filter((name) => name.endsWith('.sse'));

describe.each(files)('SDKs read the re-encoded %s', (file) => {
  const name = file.replace(/\.sse$/, '');
  const parts = decodeStream(getAdapter(upstreamOf(name)), new Uint8Array(readFileSync(fixtures + file)));
  const expected = summarize(parts);
  const expectedTools = expected.tools.map((tool) => ({ id: tool.id, name: tool.name, input: tool.input }));

  it('@anthropic-ai/sdk messages.stream().finalMessage()', async () => {
    const sse = encodeStream(getAdapter('anthropic-messages'), parts, encodeContext());
    const stream = anthropicFor(sse).messages.stream({
      model: 'caller-model',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    if (expected.error) {
      await expect(stream.finalMessage()).rejects.toThrow(expected.error.message);
      return;
    }
    const message = await stream.finalMessage();
    const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
    const thinking = message.content
      .flatMap((block) => (block.type === 'thinking' ? [block.thinking] : []))
      .join('');
    const toolUses = message.content.flatMap((block) => (block.type === 'tool_use' ? [block] : []));
    expect(text).toBe(expected.text);
    expect(thinking).toBe(expected.reasoning);
    expect(
      toolUses.map((block) => ({ id: block.id, name: block.name, input: JSON.stringify(block.input) })),
    ).toEqual(expectedTools.map((tool) => ({ ...tool, input: JSON.stringify(JSON.parse(tool.input)) })));
    const stopReason = { stop: 'end_turn', 'tool-calls': 'tool_use', length: 'max_tokens' }[
      expected.finishReason as string
    ];
    expect(message.stop_reason).toBe(stopReason);
    expect(message.usage.output_tokens).toBe(expected.usage?.outputTokens);
    expect(
      message.usage.input_tokens +
        (message.usage.cache_read_input_tokens ?? 0) +
        (message.usage.cache_creation_input_tokens ?? 0),
    ).toBe(expected.usage?.inputTokens);
  });

  it('openai chat.completions.stream().finalChatCompletion()', async () => {
    const sse = encodeStream(getAdapter('openai-chat'), parts, encodeContext());
    const stream = openAiFor(sse).chat.completions.stream({
      model: 'caller-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream_options: { include_usage: true },
    });
    if (expected.error) {
      await expect(stream.finalChatCompletion()).rejects.toThrow(expected.error.message);
      return;
    }
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];
    expect(choice?.message.content ?? '').toBe(expected.text);
    expect(
      (choice?.message.tool_calls ?? []).map((call) =>
        call.type === 'function'
          ? { id: call.id, name: call.function.name, input: call.function.arguments }
          : {},
      ),
    ).toEqual(expectedTools);
    const finishReason = { stop: 'stop', 'tool-calls': 'tool_calls', length: 'length' }[
      expected.finishReason as string
    ];
    expect(choice?.finish_reason).toBe(finishReason);
    expect(completion.usage).toMatchObject({
      prompt_tokens: expected.usage?.inputTokens,
      completion_tokens: expected.usage?.outputTokens,
    });
  });

  it('openai responses.stream().finalResponse()', async () => {
    const sse = encodeStream(getAdapter('openai-responses'), parts, encodeContext());
    const stream = openAiFor(sse).responses.stream({ model: 'caller-model', input: 'hi' });
    if (expected.error) {
      // The Responses SDK surfaces a failed response as an `error` event and a rejected final response.
      await expect(stream.finalResponse()).rejects.toThrow();
      return;
    }
    const response = await stream.finalResponse();
    expect(response.output_text).toBe(expected.text);
    expect(
      response.output.flatMap((item) =>
        item.type === 'function_call' ? [{ id: item.call_id, name: item.name, input: item.arguments }] : [],
      ),
    ).toEqual(expectedTools);
    expect(response.status).toBe(expected.finishReason === 'length' ? 'incomplete' : 'completed');
    expect(response.usage).toMatchObject({
      input_tokens: expected.usage?.inputTokens,
      output_tokens: expected.usage?.outputTokens,
    });
  });
});

describe('SDKs read non-streaming answers and errors', () => {
  const response: ModelResponse = {
    id: 'upstream-id',
    model: 'upstream-model',
    content: [
      { type: 'text', text: 'Two calls.' },
      { type: 'tool-call', id: 'call_1', name: 'Read', inputJson: '{"path":"a"}' },
      { type: 'tool-call', id: 'call_2', name: 'Read', inputJson: '{"path":"b"}' },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 10, outputTokens: 5 },
  };

  it('Anthropic', async () => {
    const body = JSON.stringify(getAdapter('anthropic-messages').encodeResponse(response, encodeContext()));
    const message = await anthropicFor(body, 'application/json').messages.create({
      model: 'caller-model',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[1]).toMatchObject({
      type: 'tool_use',
      id: 'call_1',
      name: 'Read',
      input: { path: 'a' },
    });
  });

  it('OpenAI chat completions and Responses', async () => {
    const chat = JSON.stringify(getAdapter('openai-chat').encodeResponse(response, encodeContext()));
    const completion = await openAiFor(chat, 'application/json').chat.completions.create({
      model: 'caller-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(2);
    const responses = JSON.stringify(
      getAdapter('openai-responses').encodeResponse(response, encodeContext()),
    );
    const result = await openAiFor(responses, 'application/json').responses.create({
      model: 'caller-model',
      input: 'hi',
    });
    expect(result.output_text).toBe('Two calls.');
    expect(result.output.filter((item) => item.type === 'function_call')).toHaveLength(2);
  });

  it.each([
    ['anthropic-messages', 429],
    ['openai-chat', 401],
    ['openai-responses', 503],
  ] as const)(
    '%s error body with HTTP %i becomes the SDK error with status and message',
    async (protocol, status) => {
      const { body } = getAdapter(protocol).encodeError({ status, message: 'explained failure' });
      const text = JSON.stringify(body);
      const call =
        protocol === 'anthropic-messages'
          ? anthropicFor(text, 'application/json', status).messages.create({
              model: 'm',
              max_tokens: 1,
              messages: [{ role: 'user', content: 'x' }],
            })
          : protocol === 'openai-chat'
            ? openAiFor(text, 'application/json', status).chat.completions.create({
                model: 'm',
                messages: [{ role: 'user', content: 'x' }],
              })
            : openAiFor(text, 'application/json', status).responses.create({ model: 'm', input: 'x' });
      await expect(call).rejects.toMatchObject({
        status,
        message: expect.stringContaining('explained failure'),
      });
    },
  );
});
