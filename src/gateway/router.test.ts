import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from './config.js';
import { createRouter } from './router.js';

function sequence(...values: number[]) {
  let index = 0;
  return () => values[index++ % values.length]!;
}

const config = parseGatewayConfig(
  {
    model_list: [
      {
        model_name: 'fast',
        litellm_params: { model: 'openai/fast-a', api_base: 'http://127.0.0.1:1/v1', weight: 3 },
      },
      {
        model_name: 'fast',
        litellm_params: { model: 'openai/fast-b', api_base: 'http://127.0.0.1:2/v1', weight: 1 },
      },
      {
        model_name: 'backup',
        litellm_params: { model: 'anthropic/claude-x', api_base: 'http://127.0.0.1:3' },
      },
      { model_name: 'openai/*', litellm_params: { model: 'openai/*', api_base: 'http://127.0.0.1:4/v1' } },
      { model_name: '*', litellm_params: { model: '*' } },
    ],
    router_settings: { num_retries: 1, fallbacks: [{ fast: ['backup'] }] },
  },
  { OPENAI_API_KEY: 'sk-o', ANTHROPIC_API_KEY: 'sk-a' },
);

describe('router', () => {
  it('orders same-name deployments by weight, then retries, then fallbacks', () => {
    const router = createRouter(config, { random: sequence(0.1), retryDelayMs: 50 });
    const plan = router.plan('fast');
    expect(plan.map((attempt) => [attempt.deployment.label, attempt.delayMs])).toEqual([
      ['openai/fast-a', 0],
      ['openai/fast-b', 0],
      ['openai/fast-a', 50],
      ['anthropic/claude-x', 0],
    ]);
    // A draw past the heavier deployment's share picks the lighter one first.
    expect(createRouter(config, { random: sequence(0.9) }).plan('fast')[0]!.deployment.label).toBe(
      'openai/fast-b',
    );
  });

  it('spreads load in proportion to weight', () => {
    const router = createRouter(config);
    let first = 0;
    for (let index = 0; index < 4000; index++)
      if (router.plan('fast')[0]!.deployment.label === 'openai/fast-a') first++;
    expect(first / 4000).toBeGreaterThan(0.7);
    expect(first / 4000).toBeLessThan(0.8);
  });

  it('tries a deployment that just failed last, until its cool-down ends', () => {
    let time = 1_000;
    const router = createRouter(config, { random: sequence(0.1), now: () => time, cooldownMs: 5_000 });
    const [first] = router.plan('fast');
    router.reportFailure(first!.deployment);
    expect(router.plan('fast')[0]!.deployment.label).toBe('openai/fast-b');
    time += 6_000;
    expect(router.plan('fast')[0]!.deployment.label).toBe('openai/fast-a');
  });

  it('matches the most specific pattern and fills in the wildcard', () => {
    const router = createRouter(config);
    const [specific] = router.plan('openai/gpt-4.1');
    expect(specific!.deployment).toMatchObject({
      upstreamModel: 'gpt-4.1',
      apiBase: 'http://127.0.0.1:4/v1',
    });
  });

  it('passes any other name through to the provider its name implies', () => {
    const router = createRouter(config);
    expect(router.plan('claude-sonnet-4-5')[0]!.deployment).toMatchObject({
      label: 'anthropic/claude-sonnet-4-5',
      apiBase: 'https://api.anthropic.com',
      apiKey: 'sk-a',
      protocol: 'anthropic-messages',
    });
    expect(router.plan('xai/grok-4')[0]!.deployment).toMatchObject({
      label: 'xai/grok-4',
      apiBase: 'https://api.x.ai/v1',
    });
    expect(router.plan('gpt-5')[0]!.deployment).toMatchObject({ label: 'openai/gpt-5', apiKey: 'sk-o' });
  });

  it('plans nothing for an unknown name when there is no catch-all, and lists only real names', () => {
    const router = createRouter(
      parseGatewayConfig({ model_list: [{ model_name: 'a', litellm_params: { model: 'openai/a' } }] }, {}),
    );
    expect(router.plan('b')).toEqual([]);
    expect(router.modelNames()).toEqual(['a']);
    expect(createRouter(config).modelNames()).toEqual(['fast', 'backup']);
  });

  it('never plans more than maxAttempts', () => {
    const many = parseGatewayConfig(
      {
        model_list: [{ model_name: 'a', litellm_params: { model: 'openai/a' } }],
        router_settings: { num_retries: 50 },
      },
      {},
    );
    expect(createRouter(many, { maxAttempts: 4 }).plan('a')).toHaveLength(4);
  });
});
