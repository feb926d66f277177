import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultText, startFakeOpenAi, type FakeLlm, type FakeLlmOptions } from './helpers/fake-llm.js';
import { startFakeResponses } from './helpers/fake-llm-responses.js';
import { masterKey, startGatewayFixture, type GatewayFixture } from './helpers/fake-llm-gateway.js';

/** Load balancing, retries, fallbacks, timeouts, aborts and prompt rewriting, through real HTTP. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixtureWith(options: Parameters<typeof startGatewayFixture>[0]): Promise<GatewayFixture> {
  const fixture = await startGatewayFixture(options);
  cleanups.push(() => fixture.close());
  return fixture;
}

async function extraFake(options: Parameters<typeof startFakeOpenAi>[0]): Promise<FakeLlm> {
  const fake = await startFakeOpenAi(options);
  cleanups.push(() => fake.close());
  return fake;
}

/** A port that refuses connections: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function openaiClient(url: string) {
  return new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 });
}

function anthropicClient(url: string) {
  return new Anthropic({ apiKey: masterKey, baseURL: url, maxRetries: 0 });
}

describe('routing across deployments', () => {
  it('retries on the next deployment after a 429, before any byte reached the caller', async () => {
    const limited = await extraFake({
      reply: () => ({ kind: 'status', status: 429, body: { error: { message: 'slow down' } } }),
    });
    const healthy = await extraFake({});
    const { url, usage } = await fixtureWith({
      extraModels: [
        {
          model_name: 'pair',
          litellm_params: { model: 'openai/a', api_base: `${limited.url}/v1`, weight: 1000 },
        },
        {
          model_name: 'pair',
          litellm_params: { model: 'openai/b', api_base: `${healthy.url}/v1`, weight: 0.001 },
        },
      ],
    });
    const stream = await openaiClient(url).chat.completions.create({
      model: 'pair',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(defaultText);
    expect(limited.requests).toHaveLength(1);
    expect(healthy.requests).toHaveLength(1);
    expect(usage[0]).toMatchObject({ status: 200, attempts: 2, upstream: 'openai/b' });
  });

  it('retries after a refused connection and a 500, then falls back to another model name', async () => {
    const failing = await extraFake({ reply: () => ({ kind: 'status', status: 500 }) });
    const port = await closedPort();
    const { url, usage, anthropic } = await fixtureWith({
      extraModels: [
        {
          model_name: 'flaky',
          litellm_params: { model: 'openai/x', api_base: `http://127.0.0.1:${port}/v1` },
        },
        { model_name: 'flaky', litellm_params: { model: 'openai/y', api_base: `${failing.url}/v1` } },
      ],
      settings: { fallbacks: [{ flaky: ['claude-fake'] }] },
    });
    const message = await anthropicClient(url).messages.create({
      model: 'flaky',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: defaultText });
    expect(failing.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(1);
    expect(usage[0]).toMatchObject({ status: 200, attempts: 3, upstream: 'anthropic/claude-fake' });
  });

  it('retries the same deployment num_retries times, then reports the last upstream error', async () => {
    const failing = await extraFake({
      reply: () => ({ kind: 'status', status: 503, body: { error: { message: 'overloaded here' } } }),
    });
    const { url, usage } = await fixtureWith({
      extraModels: [
        { model_name: 'one', litellm_params: { model: 'openai/x', api_base: `${failing.url}/v1` } },
      ],
      settings: { num_retries: 2 },
    });
    const error = await openaiClient(url)
      .chat.completions.create({ model: 'one', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(String((error as Error).message)).toMatch(/overloaded here \(after 3 attempts\)/);
    expect(failing.requests).toHaveLength(3);
    expect(usage[0]).toMatchObject({ status: 503, attempts: 3 });
  });

  it('does not retry a 400: the request itself is wrong', async () => {
    const rejecting = await extraFake({
      reply: () => ({ kind: 'status', status: 400, body: { error: { message: 'bad temperature' } } }),
    });
    const { url } = await fixtureWith({
      extraModels: [
        { model_name: 'two', litellm_params: { model: 'openai/x', api_base: `${rejecting.url}/v1` } },
        { model_name: 'two', litellm_params: { model: 'openai/y', api_base: `${rejecting.url}/v1` } },
      ],
    });
    const error = await openaiClient(url)
      .chat.completions.create({ model: 'two', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect(rejecting.requests).toHaveLength(1);
  });

  it('answers 504 in the caller shape when the upstream sends nothing within stream_timeout', async () => {
    const stalled = await extraFake({ reply: () => ({ kind: 'stall' }) });
    const { url } = await fixtureWith({
      extraModels: [
        {
          model_name: 'slow',
          litellm_params: { model: 'openai/x', api_base: `${stalled.url}/v1`, stream_timeout: 0.3 },
        },
      ],
    });
    const started = Date.now();
    const error = await anthropicClient(url)
      .messages.create({ model: 'slow', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
    expect(String((error as Error).message)).toMatch(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('ends a stream with an error event when the upstream goes silent for longer than timeout', async () => {
    const silent = await extraFake({
      reply: () => ({ kind: 'go-silent', afterEvents: 3, reply: { kind: 'answer', text: defaultText } }),
    });
    const { url, usage } = await fixtureWith({
      extraModels: [
        {
          model_name: 'mute',
          litellm_params: { model: 'openai/x', api_base: `${silent.url}/v1`, timeout: 0.3 },
        },
      ],
    });
    const started = Date.now();
    const stream = anthropicClient(url).messages.stream({
      model: 'mute',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    await expect(stream.finalMessage()).rejects.toThrow();
    expect(texts.join('')).toBe(defaultText.slice(0, 16));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(usage[0]).toMatchObject({ status: 200, error: expect.any(String) });
  });

  it('closes within its grace period even while a call is under way', async () => {
    const stalled = await extraFake({ reply: () => ({ kind: 'stall' }) });
    const fixture = await startGatewayFixture({
      extraModels: [
        { model_name: 'slow', litellm_params: { model: 'openai/x', api_base: `${stalled.url}/v1` } },
      ],
      gateway: { closeGraceMs: 200 },
    });
    const pending = openaiClient(fixture.url)
      .chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    await expect.poll(() => stalled.requests.length).toBe(1);
    const started = Date.now();
    await fixture.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('aborts the upstream call when the caller goes away', async () => {
    const stalled = await extraFake({ reply: () => ({ kind: 'stall' }) });
    const { url, usage } = await fixtureWith({
      extraModels: [
        { model_name: 'slow', litellm_params: { model: 'openai/x', api_base: `${stalled.url}/v1` } },
      ],
    });
    const controller = new AbortController();
    const pending = openaiClient(url)
      .chat.completions.create(
        { model: 'slow', messages: [{ role: 'user', content: 'hi' }] },
        { signal: controller.signal },
      )
      .catch((caught: unknown) => caught);
    await expect.poll(() => stalled.requests.length).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => stalled.disconnects()).toBe(1);
    await expect.poll(() => usage.length).toBe(1);
    expect(usage[0]).toMatchObject({ status: 499, error: 'client went away' });
  });
});

describe('upstreams that misbehave', () => {
  it('retries a stream that fails before its first token (in-stream overloaded error)', async () => {
    const overloaded =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":3,"output_tokens":0}}}\n\n' +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const { url, usage, anthropic } = await fixtureWith({
      anthropic: {
        reply: (_request, index) =>
          index === 0
            ? { kind: 'raw', status: 200, contentType: 'text/event-stream', body: overloaded }
            : { kind: 'answer', text: defaultText },
      },
      settings: { num_retries: 1 },
    });
    const stream = await openaiClient(url).chat.completions.create({
      model: 'claude-fake',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(defaultText);
    expect(anthropic.requests).toHaveLength(2);
    expect(usage[0]).toMatchObject({ status: 200, attempts: 2, error: null });
  });

  it('answers a plain HTTP error when a stream is cut before its first token and no attempt is left', async () => {
    const { url, usage } = await fixtureWith({
      openai: {
        reply: () => ({ kind: 'truncate', afterEvents: 1, reply: { kind: 'answer', text: defaultText } }),
      },
    });
    const error = await anthropicClient(url)
      .messages.create({
        model: 'gpt-fake',
        max_tokens: 10,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBeGreaterThanOrEqual(500);
    expect(usage[0]).toMatchObject({ attempts: 1, upstream: 'openai/gpt-fake' });
    expect(usage[0]!.status).toBeGreaterThanOrEqual(500);
  });

  it('retries a deployment that hangs up without answering', async () => {
    const rude = await extraFake({ reply: () => ({ kind: 'hang-up' }) });
    const { url, usage } = await fixtureWith({
      extraModels: [
        {
          model_name: 'pair',
          litellm_params: { model: 'openai/a', api_base: `${rude.url}/v1`, weight: 1000 },
        },
        {
          model_name: 'pair',
          litellm_params: { model: 'openai/b', api_base: `${rude.url}/v1`, weight: 0.001 },
        },
        {
          model_name: 'pair',
          litellm_params: { model: 'anthropic/c', api_base: 'http://127.0.0.1:9', weight: 0.000001 },
        },
      ],
      settings: { fallbacks: [{ pair: ['gpt-fake'] }] },
    });
    const completion = await openaiClient(url).chat.completions.create({
      model: 'pair',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]!.message.content).toBe(defaultText);
    expect(usage[0]).toMatchObject({ status: 200, attempts: 4, upstream: 'openai/gpt-fake' });
  });

  it('replays a whole JSON answer as a stream when the upstream ignored stream: true', async () => {
    const { url } = await fixtureWith({
      openai: {
        ignoreStream: true,
        reply: () => ({
          kind: 'answer',
          text: 'whole',
          toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }],
        }),
      },
    });
    const message = await anthropicClient(url)
      .messages.stream({
        model: 'gpt-fake',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
      })
      .finalMessage();
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'whole' }),
      expect.objectContaining({ type: 'tool_use', id: 'call_1', input: { a: 1 } }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('folds a stream into one answer when the upstream streamed a request that did not ask for it', async () => {
    const { url } = await fixtureWith({
      openai: {
        alwaysStream: true,
        reply: () => ({
          kind: 'answer',
          text: 'folded',
          toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":[1,2]}' }],
        }),
      },
    });
    const message = await anthropicClient(url).messages.create({
      model: 'gpt-fake',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    });
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'folded' }),
      expect.objectContaining({ type: 'tool_use', id: 'call_1', name: 'f', input: { a: [1, 2] } }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('answers an error when such an unasked-for stream breaks off', async () => {
    const { url } = await fixtureWith({
      openai: {
        alwaysStream: true,
        reply: () => ({ kind: 'truncate', afterEvents: 3, reply: { kind: 'answer', text: defaultText } }),
      },
    });
    const error = await openaiClient(url)
      .chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
  });

  it('answers 502 in the caller shape when a 200 answer is not the protocol it should be', async () => {
    const { url, usage } = await fixtureWith({
      openai: {
        reply: () => ({ kind: 'raw', status: 200, contentType: 'application/json', body: '<html>oops' }),
      },
    });
    const error = await anthropicClient(url)
      .messages.create({ model: 'gpt-fake', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect(usage[0]).toMatchObject({ status: 502, upstream: 'openai/gpt-fake' });
  });

  it('survives garbage inside a stream and still closes it properly', async () => {
    const garbage =
      'data: {not json\n\ndata: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\nevent: weird\ndata: 42\n\n';
    const { url } = await fixtureWith({
      openai: {
        reply: () => ({ kind: 'raw', status: 200, contentType: 'text/event-stream', body: garbage }),
      },
    });
    const response = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': masterKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-fake',
        max_tokens: 10,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    // The stream ends in exactly one terminal event: an error (no finish came), not a hang or a crash.
    expect(text).toMatch(/event: error/);
    const after = await openaiClient(url).chat.completions.create({
      model: 'claude-fake',
      messages: [{ role: 'user', content: 'still alive?' }],
    });
    expect(after.choices[0]!.message.content).toBe(defaultText);
  });
});

describe('what reaches the upstream', () => {
  it("rewrites Claude identity lines for a non-Anthropic model, and leaves them for Anthropic's", async () => {
    const { url, openai, anthropic } = await fixtureWith({});
    const system = "You are Claude Code, Anthropic's official CLI for Claude.\nYou help with software tasks.";
    const client = anthropicClient(url);
    await client.messages.create({
      model: 'claude-sonnet-next',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await client.messages.create({
      model: 'claude-fake',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const toOpenAi = JSON.stringify(openai.requests[0]!.body);
    expect(toOpenAi).not.toContain('You are Claude Code');
    expect(toOpenAi).toContain('You are qwen-fake, the model running as the agent inside Claude Code');
    expect(toOpenAi).toContain('You help with software tasks.');
    expect(JSON.stringify(anthropic.requests[0]!.body)).toContain(
      "You are Claude Code, Anthropic's official CLI for Claude.",
    );
  });

  it('leaves identity lines alone with identity: off, and writes custom text when given', async () => {
    const plain = await extraFake({});
    const custom = await extraFake({});
    const { url } = await fixtureWith({
      extraModels: [
        {
          model_name: 'plain',
          litellm_params: { model: 'openai/qwen-fake', api_base: `${plain.url}/v1` },
          warren: { identity: 'off' },
        },
        {
          model_name: 'custom',
          litellm_params: { model: 'openai/qwen-fake', api_base: `${custom.url}/v1` },
          warren: { identity: 'You are Qwen, run by Warren.' },
        },
      ],
    });
    const system = "You are Claude Code, Anthropic's official CLI for Claude.";
    const client = anthropicClient(url);
    await client.messages.create({
      model: 'plain',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await client.messages.create({
      model: 'custom',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(JSON.stringify(plain.requests[0]!.body)).toContain(system);
    const rewritten = JSON.stringify(custom.requests[0]!.body);
    expect(rewritten).toContain('You are Qwen, run by Warren.');
    expect(rewritten).not.toContain("Anthropic's official CLI");
  });

  it('sends the upstream key in the provider style, never the caller key', async () => {
    const { url, openai, anthropic } = await fixtureWith({});
    await openaiClient(url).chat.completions.create({
      model: 'gpt-fake',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await openaiClient(url).chat.completions.create({
      model: 'claude-fake',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(openai.requests[0]!.headers.authorization).toBe('Bearer sk-upstream-openai');
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe('sk-upstream-anthropic');
    expect(anthropic.requests[0]!.headers['anthropic-version']).toBe('2023-06-01');
    expect(JSON.stringify([openai.requests[0]!.headers, anthropic.requests[0]!.headers])).not.toContain(
      masterKey,
    );
  });

  it('shortens tool names over 64 characters for the upstream and restores them for the caller', async () => {
    const longName = `mcp__very_long_server_name_for_testing__${'really_long_tool_name_'.repeat(3)}`;
    const { url, openai } = await fixtureWith({
      openai: {
        reply: (request) => {
          const tools = request.body.tools as { function: { name: string } }[];
          return {
            kind: 'answer',
            toolCalls: [{ id: 'call_1', name: tools[0]!.function.name, arguments: '{}' }],
          };
        },
      },
    });
    const message = await anthropicClient(url).messages.create({
      model: 'gpt-fake',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'go' }],
      tools: [{ name: longName, input_schema: { type: 'object', properties: {} } }],
    });
    const sentName = (openai.requests[0]!.body.tools as { function: { name: string } }[])[0]!.function.name;
    expect(longName.length).toBeGreaterThan(64);
    expect(sentName.length).toBeLessThanOrEqual(64);
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: longName });
  });
});

describe('an OpenAI Responses upstream (warren.api: openai-responses)', () => {
  async function responsesFixture(reply?: FakeLlmOptions['reply']) {
    const upstream = await startFakeResponses(reply ? { reply } : {});
    cleanups.push(() => upstream.close());
    const fixture = await fixtureWith({
      extraModels: [
        {
          model_name: 'gpt-responses',
          litellm_params: { model: 'openai/gpt-5-fake', api_base: `${upstream.url}/v1`, api_key: 'sk-r' },
          warren: { api: 'openai-responses' },
        },
      ],
    });
    return { ...fixture, upstream };
  }

  it('serves Anthropic and chat callers, streaming and not, from /v1/responses', async () => {
    const { url, upstream } = await responsesFixture(() => ({
      kind: 'answer',
      text: 'Let me look.',
      toolCalls: [{ id: 'call_9', name: 'lookup', arguments: '{"q":"warren"}' }],
    }));
    const message = await anthropicClient(url)
      .messages.stream({
        model: 'gpt-responses',
        max_tokens: 50,
        system: "You are Claude Code, Anthropic's official CLI for Claude.",
        messages: [{ role: 'user', content: 'find warren' }],
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
      })
      .finalMessage();
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Let me look.' }),
      expect.objectContaining({ type: 'tool_use', id: 'call_9', name: 'lookup', input: { q: 'warren' } }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(upstream.requests[0]!.path).toBe('/v1/responses');
    expect(upstream.requests[0]!.headers.authorization).toBe('Bearer sk-r');
    expect(JSON.stringify(upstream.requests[0]!.body)).not.toContain('You are Claude Code');

    const completion = await openaiClient(url).chat.completions.create({
      model: 'gpt-responses',
      messages: [{ role: 'user', content: 'find warren' }],
    });
    expect(completion.choices[0]!.message.tool_calls?.[0]).toMatchObject({
      id: 'call_9',
      function: { name: 'lookup' },
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
  });
});
