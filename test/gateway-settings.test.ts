import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { REASONING_EFFORTS } from '../src/gateway/protocol/types.js';
import { startFakeResponses } from './helpers/fake-llm-responses.js';
import type { FakeLlm } from './helpers/fake-llm.js';
import { masterKey, startGatewayFixture, type GatewayFixture } from './helpers/fake-llm-gateway.js';

/**
 * Every reasoning, verbosity and service-tier setting the current OpenAI and Anthropic APIs document,
 * sent with the official SDKs: accepted (never a 400), passed on as written to an upstream of the
 * caller's family, mapped where the other family has an equivalent, and left out with a note (on the
 * usage row and in `x-warren-gateway-notes`) where it has none.
 */

let fixture: GatewayFixture | undefined;
let responsesUpstream: FakeLlm | undefined;
afterEach(async () => {
  await fixture?.close();
  await responsesUpstream?.close();
  fixture = undefined;
  responsesUpstream = undefined;
});

/**
 * The fixture's models (gpt-fake and claude-sonnet-next on the fake OpenAI server, claude-fake on the fake
 * Anthropic one), plus a model that reasons, an older Claude, and a Responses upstream.
 */
async function start(): Promise<GatewayFixture> {
  const responses = await startFakeResponses();
  responsesUpstream = responses;
  fixture = await startGatewayFixture({
    extraModels: (upstreams) => [
      {
        model_name: 'gpt-5-fake',
        litellm_params: { model: 'openai/gpt-5-fake', api_base: upstreams.openai },
      },
      {
        model_name: 'claude-old',
        litellm_params: { model: 'anthropic/claude-sonnet-4-5', api_base: upstreams.anthropic },
      },
      {
        model_name: 'responses-fake',
        litellm_params: { model: 'openai/gpt-5-fake', api_base: `${responses.url}/v1` },
        warren: { api: 'openai-responses' },
      },
    ],
  });
  return fixture;
}

function openaiClient(url: string) {
  return new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 });
}

function anthropicClient(url: string) {
  return new Anthropic({ apiKey: masterKey, baseURL: url, maxRetries: 0 });
}

type Effort = OpenAI.ReasoningEffort;

describe('OpenAI callers: every documented effort, verbosity and service tier', () => {
  it('reach an OpenAI upstream as written, none and xhigh included', async () => {
    const { url, openai, usage } = await start();
    const client = openaiClient(url);
    for (const effort of REASONING_EFFORTS) {
      const completion = await client.chat.completions.create({
        model: 'gpt-fake',
        messages: [{ role: 'user', content: 'title this' }],
        reasoning_effort: effort as Effort,
        verbosity: 'low',
        service_tier: 'flex',
      });
      expect(completion.choices[0]!.message.content).toBeTruthy();
    }
    expect(openai.requests.map((request) => request.body.reasoning_effort)).toEqual([...REASONING_EFFORTS]);
    for (const request of openai.requests) {
      expect(request.body).toMatchObject({ verbosity: 'low', service_tier: 'flex' });
    }
    expect(usage.every((row) => row.status === 200 && (row.notes ?? []).length === 0)).toBe(true);
  });

  it('reach an Anthropic upstream as adaptive thinking with an effort, or a budget for an older Claude', async () => {
    const { url, anthropic, usage } = await start();
    const client = openaiClient(url);
    const ask = (model: string, effort: Effort) =>
      client.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'think' }],
          reasoning_effort: effort,
          verbosity: 'high',
          service_tier: 'flex',
        })
        .withResponse();
    const xhigh = await ask('claude-fake', 'xhigh');
    await ask('claude-fake', 'none');
    await ask('claude-fake', 'minimal');
    await ask('claude-old', 'high');
    const [adaptive, off, minimal, budget] = anthropic.requests.map((request) => request.body);
    expect(adaptive).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } });
    expect(off!.thinking).toBeUndefined();
    expect(off!.output_config).toBeUndefined();
    expect(minimal).toMatchObject({ output_config: { effort: 'low' } });
    expect(budget).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 24576 } });
    expect(budget!.output_config).toBeUndefined();
    for (const body of [adaptive, off, minimal, budget]) {
      expect(body!.service_tier).toBeUndefined();
      expect(body!.verbosity).toBeUndefined();
    }
    // What had no equivalent is said on the usage row and on the answer (which the flow records).
    expect(usage[0]!.notes).toEqual([
      'service_tier "flex" not sent: Anthropic has no such tier',
      'verbosity "high" not sent: Anthropic has no verbosity setting',
    ]);
    expect(usage[2]!.notes).toContain(
      'reasoning effort "minimal" sent as "low", the lowest Anthropic effort',
    );
    expect(JSON.parse(xhigh.response.headers.get('x-warren-gateway-notes')!)).toEqual(usage[0]!.notes);
  });

  it('map OpenAI service tiers to Anthropic ones where they mean the same', async () => {
    const { url, anthropic, usage } = await start();
    const client = openaiClient(url);
    for (const tier of ['auto', 'default', 'priority', 'scale'] as const) {
      await client.chat.completions.create({
        model: 'claude-fake',
        messages: [{ role: 'user', content: 'hi' }],
        service_tier: tier,
      });
    }
    expect(anthropic.requests.map((request) => request.body.service_tier)).toEqual([
      undefined,
      'standard_only',
      'auto',
      undefined,
    ]);
    expect(usage[3]!.notes).toEqual(['service_tier "scale" not sent: Anthropic has no such tier']);
  });

  it('Responses SDK: reasoning.effort and text.verbosity reach a chat upstream; Codex’s reasoning.context a Responses one', async () => {
    const { url, openai } = await start();
    const client = openaiClient(url);
    await client.responses.create({
      model: 'gpt-fake',
      input: 'hi',
      reasoning: { effort: 'xhigh' },
      text: { verbosity: 'high' },
    });
    expect(openai.requests[0]!.body).toMatchObject({ reasoning_effort: 'xhigh', verbosity: 'high' });
    await client.responses.create({
      model: 'responses-fake',
      input: 'hi',
      reasoning: { effort: 'none', context: 'all_turns' } as OpenAI.Reasoning,
      text: { verbosity: 'low' },
      service_tier: 'priority',
    });
    expect(responsesUpstream!.requests[0]!.body).toMatchObject({
      reasoning: { effort: 'none', summary: 'auto', context: 'all_turns' },
      text: { verbosity: 'low' },
      service_tier: 'priority',
    });
  });
});

describe('Anthropic callers: every thinking type, output effort and service tier', () => {
  const thinkings: Anthropic.ThinkingConfigParam[] = [
    { type: 'enabled', budget_tokens: 2048 },
    { type: 'disabled' },
    { type: 'adaptive' },
    { type: 'adaptive', display: 'omitted' },
    { type: 'between_tools' },
  ];

  it('reach an Anthropic upstream exactly as written', async () => {
    const { url, anthropic, usage } = await start();
    const client = anthropicClient(url);
    for (const thinking of thinkings) {
      await client.messages.create({
        model: 'claude-fake',
        max_tokens: 4096,
        messages: [{ role: 'user', content: 'hi' }],
        thinking,
        output_config: { effort: 'max' },
        service_tier: 'standard_only',
      });
    }
    expect(anthropic.requests.map((request) => request.body.thinking)).toEqual(thinkings);
    for (const request of anthropic.requests) {
      expect(request.body).toMatchObject({ output_config: { effort: 'max' }, service_tier: 'standard_only' });
    }
    expect(usage.every((row) => row.status === 200 && (row.notes ?? []).length === 0)).toBe(true);
  });

  it('reach an OpenAI model that reasons as reasoning_effort, and one that does not with a note', async () => {
    const { url, openai, usage } = await start();
    const client = anthropicClient(url);
    const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming>) =>
      client.messages.create({
        model,
        max_tokens: 20000,
        messages: [{ role: 'user', content: 'hi' }],
        ...extra,
      });
    await ask('gpt-5-fake', { thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } });
    await ask('gpt-5-fake', { thinking: { type: 'enabled', budget_tokens: 10000 } });
    await ask('gpt-5-fake', { thinking: { type: 'disabled' }, service_tier: 'standard_only' });
    await ask('claude-sonnet-next', { thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    const bodies = openai.requests.map((request) => request.body);
    expect(bodies[0]!.reasoning_effort).toBe('xhigh');
    expect(bodies[1]!.reasoning_effort).toBe('medium');
    expect(usage[1]!.notes).toEqual(['thinking budget 10000 sent as reasoning_effort "medium"']);
    expect(bodies[2]!.reasoning_effort).toBeUndefined();
    expect(bodies[2]!.service_tier).toBe('default');
    expect(usage[2]!.notes).toEqual([
      'thinking "disabled" not sent: the upstream model reasons as it does by default',
    ]);
    expect(bodies[3]!.reasoning_effort).toBeUndefined();
    expect(usage[3]!.notes).toEqual([
      'effort "high" not sent: openai/qwen-fake is not known to take reasoning_effort (model_info.supports_reasoning: true says it does)',
    ]);
    expect(usage.every((row) => row.status === 200)).toBe(true);
  });
});
