import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultText, type FakeLlmOptions, type FakeReply } from './helpers/fake-llm.js';
import { masterKey, startGatewayFixture, type GatewayFixture } from './helpers/fake-llm-gateway.js';

/**
 * End to end with the official SDKs: each caller protocol (OpenAI chat completions, OpenAI
 * Responses, Anthropic Messages) against each upstream protocol (fake OpenAI-compatible server,
 * fake Anthropic server), streaming and not, with text and parallel tool calls.
 */

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const toolCalls = [
  { id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris – Île-de-France"}' },
  { id: 'call_tokyo', name: 'get_weather', arguments: '{"city":"東京"}' },
];

const toolReply: FakeReply = {
  kind: 'answer',
  text: 'Checking both.',
  toolCalls,
  inputTokens: 42,
  outputTokens: 17,
};

let fixture: GatewayFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function start(upstream: FakeLlmOptions = {}) {
  fixture = await startGatewayFixture({ openai: upstream, anthropic: upstream });
  return fixture;
}

function openaiClient(url: string) {
  return new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 });
}

function anthropicClient(url: string) {
  return new Anthropic({ apiKey: masterKey, baseURL: url, maxRetries: 0 });
}

// Both upstream protocols, behind model names the fixture routes.
const upstreams = [
  { label: 'OpenAI-compatible upstream', model: 'gpt-fake' },
  { label: 'Anthropic upstream', model: 'claude-fake' },
] as const;

describe.each(upstreams)('OpenAI chat completions SDK → $label', ({ model }) => {
  it('answers a plain request with the upstream text and usage', async () => {
    const { url, usage } = await start();
    const completion = await openaiClient(url).chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      max_tokens: 100,
    });
    expect(completion.model).toBe(model);
    expect(completion.choices[0]!.message.content).toBe(defaultText);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    expect(usage).toMatchObject([
      { model, status: 200, inputTokens: 11, outputTokens: 7, stream: false, attempts: 1 },
    ]);
  });

  it('streams text split across UTF-8 boundaries, then usage in a trailing chunk', async () => {
    const { url, usage } = await start({ chunkBytes: 3 });
    const stream = await openaiClient(url).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let reportedUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) reportedUsage = chunk.usage;
    }
    expect(text).toBe(defaultText);
    expect(finish).toBe('stop');
    expect(reportedUsage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    expect(usage[0]).toMatchObject({
      stream: true,
      status: 200,
      inputTokens: 11,
      outputTokens: 7,
      error: null,
    });
    expect(usage[0]!.timeToFirstTokenMs).toBeGreaterThan(0);
  });

  it('streams parallel tool calls with their arguments', async () => {
    const { url } = await start({ reply: () => toolReply });
    const stream = await openaiClient(url).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: weatherTool.name,
            description: weatherTool.description,
            parameters: weatherTool.schema,
          },
        },
      ],
      tool_choice: 'required',
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        const known = calls.get(call.index) ?? { arguments: '' };
        if (call.id) known.id = call.id;
        if (call.function?.name) known.name = call.function.name;
        known.arguments += call.function?.arguments ?? '';
        calls.set(call.index, known);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([...calls.values()]).toEqual([
      { id: 'call_paris', name: 'get_weather', arguments: toolCalls[0]!.arguments },
      { id: 'call_tokyo', name: 'get_weather', arguments: toolCalls[1]!.arguments },
    ]);
    expect(finish).toBe('tool_calls');
  });

  it('answers tool calls without streaming', async () => {
    const { url } = await start({ reply: () => toolReply });
    const completion = await openaiClient(url).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: weatherTool.name, parameters: weatherTool.schema } }],
    });
    const message = completion.choices[0]!.message;
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(
      message.tool_calls?.map((call) =>
        call.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : [],
      ),
    ).toEqual([
      ['call_paris', 'get_weather', { city: 'Paris – Île-de-France' }],
      ['call_tokyo', 'get_weather', { city: '東京' }],
    ]);
  });
});

describe.each(upstreams)('Anthropic Messages SDK → $label', ({ model }) => {
  it('answers a plain request', async () => {
    const { url } = await start();
    const message = await anthropicClient(url).messages.create({
      model,
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(message.model).toBe(model);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: defaultText })]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });
  });

  it('streams text and parallel tool calls as input_json_delta, ending in tool_use', async () => {
    const { url, usage } = await start({ reply: () => toolReply, chunkBytes: 7 });
    const stream = anthropicClient(url).messages.stream({
      model,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [
        {
          name: weatherTool.name,
          description: weatherTool.description,
          input_schema: weatherTool.schema as Anthropic.Tool.InputSchema,
        },
      ],
      tool_choice: { type: 'any' },
    });
    const events: string[] = [];
    let jsonDeltas = 0;
    stream.on('streamEvent', (event) => {
      events.push(event.type === 'content_block_start' ? `start:${event.content_block.type}` : event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') jsonDeltas++;
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Checking both.' }),
      expect.objectContaining({
        type: 'tool_use',
        id: 'call_paris',
        name: 'get_weather',
        input: { city: 'Paris – Île-de-France' },
      }),
      expect.objectContaining({
        type: 'tool_use',
        id: 'call_tokyo',
        name: 'get_weather',
        input: { city: '東京' },
      }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage.output_tokens).toBe(17);
    // Arguments arrive as deltas, never only in content_block_start.
    expect(jsonDeltas).toBeGreaterThanOrEqual(2);
    const lifecycle = events.filter((type) => type !== 'ping' && type !== 'content_block_delta');
    expect(lifecycle).toEqual([
      'message_start',
      'start:text',
      'content_block_stop',
      'start:tool_use',
      'content_block_stop',
      'start:tool_use',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(usage[0]).toMatchObject({ inputTokens: 42, outputTokens: 17, stream: true });
  });

  it('takes tool results (errors and non-string content) back to the upstream', async () => {
    const { url, openai, anthropic } = await start();
    await anthropicClient(url).messages.create({
      model,
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'call_1',
              is_error: true,
              content: [{ type: 'text', text: 'service down' }],
            },
          ],
        },
      ],
      tools: [{ name: weatherTool.name, input_schema: weatherTool.schema as Anthropic.Tool.InputSchema }],
    });
    const sent = JSON.stringify((model === 'gpt-fake' ? openai : anthropic).requests[0]!.body);
    expect(sent).toContain('call_1');
    expect(sent).toContain('service down');
  });

  it('counts tokens: exactly through Anthropic, else with a real estimate, never 0', async () => {
    const { url, anthropic } = await start();
    const counted = await anthropicClient(url).messages.countTokens({
      model,
      system: 'You are a careful assistant.',
      messages: [
        { role: 'user', content: 'Please summarise the following paragraph about sandboxes and proxies.' },
      ],
    });
    if (model === 'claude-fake') {
      // The fake's exact count is 1,000 + the size of what it was sent: only count_tokens' own fields.
      const sent = anthropic.requests.find((request) => request.path === '/v1/messages/count_tokens')!;
      expect(Object.keys(sent.body).sort()).toEqual(['messages', 'model', 'system']);
      expect(counted.input_tokens).toBe(1000 + JSON.stringify(sent.body).length);
    } else {
      expect(counted.input_tokens).toBeGreaterThan(10);
      expect(counted.input_tokens).toBeLessThan(60);
    }
  });

  it('falls back to the estimate when the exact count fails', async () => {
    const { url } = await start({ reply: () => ({ kind: 'status', status: 500 }) });
    const counted = await anthropicClient(url).messages.countTokens({
      model,
      messages: [
        { role: 'user', content: 'Please summarise the following paragraph about sandboxes and proxies.' },
      ],
    });
    expect(counted.input_tokens).toBeGreaterThan(5);
    expect(counted.input_tokens).toBeLessThan(60);
  });
});

describe.each(upstreams)('OpenAI Responses SDK → $label', ({ model }) => {
  it('answers with instructions and input items', async () => {
    const { url, openai, anthropic } = await start();
    const response = await openaiClient(url).responses.create({
      model,
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Say hello' }],
    });
    expect(response.output_text).toBe(defaultText);
    expect(response.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });
    const sent = JSON.stringify((model === 'gpt-fake' ? openai : anthropic).requests[0]!.body);
    expect(sent).toContain('Be brief.');
  });

  it('streams the events Codex reads, function calls included, ending with full usage', async () => {
    const { url } = await start({ reply: () => toolReply });
    const stream = await openaiClient(url).responses.create({
      model,
      input: [
        { role: 'user', content: 'Weather?' },
        { type: 'function_call', call_id: 'call_0', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_0', output: 'rainy' },
      ],
      tools: [{ type: 'function', name: weatherTool.name, parameters: weatherTool.schema, strict: false }],
      stream: true,
    });
    const types = new Set<string>();
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    for (const type of [
      'response.created',
      'response.output_item.added',
      'response.output_text.delta',
      'response.output_item.done',
      'response.completed',
    ]) {
      expect(types).toContain(type);
    }
    expect(text).toBe('Checking both.');
    const calls = completed!.output.filter((item) => item.type === 'function_call');
    expect(
      calls.map((call) =>
        call.type === 'function_call' ? [call.call_id, call.name, JSON.parse(call.arguments)] : [],
      ),
    ).toEqual([
      ['call_paris', 'get_weather', { city: 'Paris – Île-de-France' }],
      ['call_tokyo', 'get_weather', { city: '東京' }],
    ]);
    expect(completed!.usage).toMatchObject({ input_tokens: 42, output_tokens: 17, total_tokens: 59 });
  });
});

describe('upstream quirks and failures, as each SDK sees them', () => {
  it('tells apart tool calls from a server that repeats index 0 (by id)', async () => {
    const { url } = await start({ reply: () => toolReply, repeatToolIndex: true });
    const message = await anthropicClient(url)
      .messages.stream({
        model: 'gpt-fake',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ name: weatherTool.name, input_schema: weatherTool.schema as Anthropic.Tool.InputSchema }],
      })
      .finalMessage();
    const uses = message.content.filter((block) => block.type === 'tool_use');
    expect(uses.map((block) => (block.type === 'tool_use' ? [block.id, block.input] : []))).toEqual([
      ['call_paris', { city: 'Paris – Île-de-France' }],
      ['call_tokyo', { city: '東京' }],
    ]);
  });

  it('turns a stream that ends early into an error event in the Anthropic shape', async () => {
    const { url, usage } = await start({
      reply: () => ({ kind: 'truncate', afterEvents: 4, reply: { kind: 'answer', text: defaultText } }),
    });
    const stream = anthropicClient(url).messages.stream({
      model: 'gpt-fake',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/ended|early|incomplete|interrupted/i);
    expect(usage[0]!.error).toMatch(/ended|early|incomplete|interrupted/i);
  });

  it('turns a stream that ends early into an error for OpenAI chat callers', async () => {
    const { url } = await start({
      reply: () => ({ kind: 'truncate', afterEvents: 5, reply: { kind: 'answer', text: defaultText } }),
    });
    const stream = await openaiClient(url).chat.completions.create({
      model: 'claude-fake',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    ).rejects.toThrow(/ended|early|incomplete|interrupted/i);
  });

  it.each([
    [429, 'rate limited upstream'],
    [500, 'upstream exploded'],
    [400, 'bad parameter upstream'],
  ])('passes an upstream %i with its message through to both SDKs', async (status, message) => {
    const { url } = await start({
      reply: () => ({
        kind: 'status',
        status,
        body: { type: 'error', error: { type: 'api_error', message } },
      }),
    });
    const openaiError = await openaiClient(url)
      .chat.completions.create({ model: 'claude-fake', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(openaiError).toBeInstanceOf(OpenAI.APIError);
    expect((openaiError as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect(String((openaiError as Error).message)).toContain(message);
    const anthropicError = await anthropicClient(url)
      .messages.create({ model: 'gpt-fake', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
    expect(String((anthropicError as Error).message)).toContain(message);
  });

  it('answers 404 in the caller shape for a model that is not configured', async () => {
    const { url } = await start();
    const error = await anthropicClient(url)
      .messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const body = (error as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } };
    expect(body.error.message).toMatch(
      /^model "nope" is not configured in this gateway; configured: gpt-fake/,
    );
  });

  it('answers 400 in the caller shape for an invalid request', async () => {
    const { url } = await start();
    const error = await openaiClient(url)
      .chat.completions.create({ model: 'gpt-fake', messages: 'not a list' as never })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((error as Error).message)).toMatch(/messages/);
  });

  it('lists the configured models to both SDKs', async () => {
    const { url } = await start();
    const openaiModels = [];
    for await (const model of openaiClient(url).models.list()) openaiModels.push(model.id);
    const anthropicModels = [];
    for await (const model of anthropicClient(url).models.list()) anthropicModels.push(model.id);
    expect(openaiModels).toEqual(['gpt-fake', 'claude-fake', 'claude-sonnet-next']);
    expect(anthropicModels).toEqual(openaiModels);
    expect(await openaiClient(url).models.retrieve('gpt-fake')).toMatchObject({
      id: 'gpt-fake',
      object: 'model',
    });
    expect(await anthropicClient(url).models.retrieve('claude-fake')).toMatchObject({
      id: 'claude-fake',
      type: 'model',
    });
    await expect(openaiClient(url).models.retrieve('nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
