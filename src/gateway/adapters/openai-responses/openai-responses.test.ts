import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../protocol/types.js';
import { runRoundTripSuite } from '../round-trip.case.js';
import { getAdapter } from '../index.js';
import {
  decodeStream,
  encodeContext,
  encodeStream,
  expectValidLifecycle,
  parseEvents,
  summarize,
} from '../stream-helpers.case.js';
import { createResponsesStreamDecoder } from './decode-stream.js';
import { openAiResponsesAdapter } from './index.js';
import { parseResponsesRequest } from './parse-request.js';

runRoundTripSuite(openAiResponsesAdapter, {
  skips: {
    'top-k': 'the Responses API has no top_k',
    'stop-sequences': 'the Responses API has no stop sequences',
    'stop-sequence-reported': 'the Responses API has no stop sequences',
    'cache-control': 'OpenAI caches prompts automatically; there are no markers',
    'tool-result-error-flag':
      'function_call_output has no error flag; the text is prefixed with "Error: " instead',
    'image-detail': 'input_image always carries a detail; "auto" is added when absent',
    'reasoning-budget': 'the Responses API takes an effort, not a budget',
    'several-system-parts': 'system parts become one `instructions` string',
  },
  reasoningPart: { type: 'reasoning', text: 'Let me think.', encryptedContent: 'gAAAA==', itemId: 'rs_1' },
  invalidBodies: [
    { model: 'm', input: 5 },
    { model: 'm', input: [{ type: 'local_shell_call' }] },
    { model: 'm', input: [{ role: 'robot', content: 'x' }] },
    { model: 'm', input: [{ type: 'function_call_output', output: 'x' }] },
    { model: 'm', input: 'hi', previous_response_id: 'resp_1' },
    { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
  ],
});

describe('Responses stream encoder (the events Codex CLI reads)', () => {
  const parts: StreamPart[] = [
    { type: 'stream-start', id: 'up', model: 'qwen' },
    { type: 'reasoning-start', id: 'r' },
    { type: 'reasoning-delta', id: 'r', delta: 'plan' },
    { type: 'reasoning-end', id: 'r' },
    { type: 'text-start', id: 't' },
    { type: 'text-delta', id: 't', delta: 'Running ls.' },
    { type: 'text-end', id: 't' },
    { type: 'tool-input-start', id: 'call_1', name: 'shell' },
    { type: 'tool-input-delta', id: 'call_1', delta: '{"command":["ls"]}' },
    { type: 'tool-input-end', id: 'call_1' },
    {
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 100, outputTokens: 20, cacheRead: 64, reasoningTokens: 8 },
    },
  ];
  const events = parseEvents(
    encodeStream(
      openAiResponsesAdapter,
      parts,
      encodeContext({ system: [{ type: 'text', text: 'Be brief.' }] }),
    ),
  ).map((event) => ({ name: event.event, data: JSON.parse(event.data) as Record<string, unknown> }));

  it('starts with response.created and ends with response.completed carrying output and full usage', () => {
    expect(events[0]?.name).toBe('response.created');
    const last = events[events.length - 1];
    expect(last?.name).toBe('response.completed');
    const response = last?.data.response as Record<string, unknown>;
    expect(response).toMatchObject({
      id: 'fixed-response-id',
      status: 'completed',
      instructions: 'Be brief.',
      usage: {
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 64 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 8 },
        total_tokens: 120,
      },
    });
    expect((response.output as Array<{ type: string }>).map((item) => item.type)).toEqual([
      'reasoning',
      'message',
      'function_call',
    ]);
  });

  it('numbers events in order and names every event type in its data', () => {
    events.forEach((event, index) => {
      expect(event.data.sequence_number).toBe(index);
      expect(event.data.type).toBe(event.name);
    });
  });

  it('announces and completes each output item with matching ids', () => {
    const added = events
      .filter((event) => event.name === 'response.output_item.added')
      .map((event) => (event.data.item as { id: string }).id);
    const done = events
      .filter((event) => event.name === 'response.output_item.done')
      .map((event) => (event.data.item as { id: string }).id);
    expect(done).toEqual(added);
    const call = events.find(
      (event) =>
        event.name === 'response.output_item.done' &&
        (event.data.item as { type: string }).type === 'function_call',
    );
    expect(call?.data.item).toMatchObject({
      call_id: 'call_1',
      name: 'shell',
      arguments: '{"command":["ls"]}',
      status: 'completed',
    });
    expect(events.map((event) => event.name)).toContain('response.output_text.delta');
    expect(events.map((event) => event.name)).toContain('response.reasoning_summary_text.delta');
  });

  it('reports a truncated answer as response.incomplete', () => {
    const text = encodeStream(
      openAiResponsesAdapter,
      [{ type: 'finish', finishReason: 'length', usage: { inputTokens: 1, outputTokens: 1 } }],
      encodeContext(),
    );
    const last = parseEvents(text).pop();
    expect(last?.event).toBe('response.incomplete');
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
  });
});

describe('Responses stream decoder', () => {
  function decode(events: Array<Record<string, unknown>>): StreamPart[] {
    const decoder = createResponsesStreamDecoder();
    return [...events.flatMap((data) => decoder.decode({ data: JSON.stringify(data) })), ...decoder.end()];
  }

  it('reads items announced only by output_item.done', () => {
    const parts = decode([
      { type: 'response.created', response: { id: 'r', model: 'm' } },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: { id: 'm1', type: 'message', content: [{ type: 'output_text', text: 'hi' }] },
      },
      {
        type: 'response.output_item.done',
        output_index: 1,
        item: { id: 'f1', type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      },
      {
        type: 'response.completed',
        response: { status: 'completed', usage: { input_tokens: 1, output_tokens: 2 } },
      },
    ]);
    expectValidLifecycle(parts);
    expect(summarize(parts)).toMatchObject({
      text: 'hi',
      tools: [{ id: 'c1', name: 'f', input: '{}' }],
      finishReason: 'tool-calls',
    });
  });

  it('joins several reasoning summary parts with a blank line and keeps the encrypted content', () => {
    const parts = decode([
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { id: 'rs', type: 'reasoning', summary: [] },
      },
      { type: 'response.reasoning_summary_part.added', item_id: 'rs', summary_index: 0 },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs', delta: 'one' },
      { type: 'response.reasoning_summary_part.added', item_id: 'rs', summary_index: 1 },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs', delta: 'two' },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: { id: 'rs', type: 'reasoning', encrypted_content: 'enc' },
      },
      { type: 'response.completed', response: { status: 'completed' } },
    ]);
    expect(summarize(parts).reasoning).toBe('one\n\ntwo');
    expect(parts).toContainEqual({ type: 'reasoning-end', id: 'rs', itemId: 'rs', encryptedContent: 'enc' });
  });
});

describe('free-form (custom) tools such as Codex apply_patch', () => {
  const patch =
    '*** Begin Patch\n*** Update File: a.ts\n@@\n-const a = "x";\n+const a = "y";\n*** End Patch\n';
  const applyPatch = {
    type: 'custom',
    name: 'apply_patch',
    description: 'Apply a patch',
    format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' },
  };
  const request = parseResponsesRequest({
    model: 'gpt-5-codex',
    stream: true,
    tools: [applyPatch, { type: 'function', name: 'shell', parameters: { type: 'object' } }],
    input: [
      { role: 'user', content: 'fix a.ts' },
      { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: patch },
      { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Done!' },
    ],
  });

  it('reads the custom tool and its calls into the neutral model', () => {
    expect(request.tools[0]).toMatchObject({
      name: 'apply_patch',
      freeform: applyPatch,
      inputSchema: { required: ['input'] },
    });
    expect(request.messages[1]?.content[0]).toEqual({
      type: 'tool-call',
      id: 'call_p',
      name: 'apply_patch',
      inputJson: JSON.stringify({ input: patch }),
    });
  });

  it('goes back to an OpenAI Responses upstream as custom items', () => {
    const body = openAiResponsesAdapter.buildUpstreamRequest(request, 'gpt-5-codex').body as {
      tools: unknown[];
      input: unknown[];
    };
    expect(body.tools[0]).toEqual(applyPatch);
    expect(body.input.slice(1)).toEqual([
      { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: patch },
      { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Done!' },
    ]);
  });

  it('becomes a function taking {input} for a chat completions upstream', () => {
    const body = getAdapter('openai-chat').buildUpstreamRequest(request, 'qwen3-coder').body as {
      tools: Array<{ function: { name: string; parameters: unknown } }>;
      messages: Array<{ tool_calls?: Array<{ function: { arguments: string } }> }>;
    };
    expect(body.tools[0]?.function).toMatchObject({
      name: 'apply_patch',
      parameters: { properties: { input: { type: 'string' } } },
    });
    expect(JSON.parse(body.messages[1]?.tool_calls?.[0]?.function.arguments ?? '{}')).toEqual({
      input: patch,
    });
  });

  it('turns a chat upstream call of the function back into a custom_tool_call for the Codex caller', async () => {
    const chatStream =
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_q', function: { name: 'apply_patch', arguments: '' } }] } }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ input: patch }).slice(0, 20) } }] } }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ input: patch }).slice(20) } }] } }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\ndata: [DONE]\n\n`;
    const parts = decodeStream(getAdapter('openai-chat'), new TextEncoder().encode(chatStream), 7);
    const sse = encodeStream(openAiResponsesAdapter, parts, { request });
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://127.0.0.1:9/v1',
      maxRetries: 0,
      fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }),
    });
    const response = await client.responses.stream({ model: 'gpt-5-codex', input: 'x' }).finalResponse();
    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'custom_tool_call',
        call_id: 'call_q',
        name: 'apply_patch',
        input: patch,
      }),
    ]);
    const added = parseEvents(sse).find((event) => event.event === 'response.output_item.added');
    expect(JSON.parse(added?.data ?? '{}')).toMatchObject({
      item: { type: 'custom_tool_call', call_id: 'call_q', input: '' },
    });
    const doneEvents = parseEvents(sse).filter(
      (event) => event.event === 'response.custom_tool_call_input.done',
    );
    expect(JSON.parse(doneEvents[0]?.data ?? '{}')).toMatchObject({ input: patch });
  });

  it('decodes a Responses upstream streaming a custom tool call', () => {
    const events = [
      { type: 'response.created', response: { id: 'r', model: 'gpt-5-codex' } },
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_r', name: 'apply_patch', input: '' },
      },
      {
        type: 'response.custom_tool_call_input.delta',
        item_id: 'ctc_1',
        output_index: 0,
        delta: patch.slice(0, 30),
      },
      {
        type: 'response.custom_tool_call_input.delta',
        item_id: 'ctc_1',
        output_index: 0,
        delta: patch.slice(30),
      },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_r', name: 'apply_patch', input: patch },
      },
      {
        type: 'response.completed',
        response: { status: 'completed', usage: { input_tokens: 5, output_tokens: 9 } },
      },
    ];
    const decoder = createResponsesStreamDecoder();
    const parts = [
      ...events.flatMap((data) => decoder.decode({ data: JSON.stringify(data) })),
      ...decoder.end(),
    ];
    expectValidLifecycle(parts);
    const tool = summarize(parts).tools[0];
    expect(tool).toMatchObject({ id: 'call_r', name: 'apply_patch' });
    expect(JSON.parse(tool?.input ?? '')).toEqual({ input: patch });
    expect(summarize(parts).finishReason).toBe('tool-calls');
  });
});
