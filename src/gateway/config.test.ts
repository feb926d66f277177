import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, parseGatewayConfig } from './config.js';

const litellmConfig = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/TEST_OPENAI_KEY
      rpm: 100
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: https://api.anthropic.com/v1
      api_key: os.environ/TEST_ANTHROPIC_KEY
      timeout: 30
      stream_timeout: 5
  - model_name: local
    litellm_params:
      model: ollama/qwen3:8b
    warren:
      identity: "off"
  - model_name: grok
    litellm_params:
      model: xai/grok-4
    warren:
      identity: You are Grok.
  - model_name: gh
    litellm_params:
      model: github/openai/gpt-4.1
  - model_name: "*"
    litellm_params:
      model: "*"
router_settings:
  num_retries: 3
  routing_strategy: usage-based-routing
  fallbacks: [{ "gpt-4o": ["claude"] }]
general_settings:
  master_key: sk-master
  database_url: postgres://nowhere
litellm_settings:
  drop_params: true
`;

const env = { TEST_OPENAI_KEY: 'sk-openai', TEST_ANTHROPIC_KEY: 'sk-ant', GITHUB_TOKEN: 'ghp_x' };

function load(text: string, environment: NodeJS.ProcessEnv = env) {
  const dir = mkdtempSync(join(tmpdir(), 'warren-gateway-config-'));
  const path = join(dir, 'litellm-config.yaml');
  writeFileSync(path, text);
  return loadGatewayConfig(path, environment);
}

describe('gateway config (LiteLLM format)', () => {
  it('reads a LiteLLM config unchanged, resolving providers, bases, keys and settings', () => {
    const config = load(litellmConfig);
    const [openai, claude, local, grok, github, wildcard] = config.models;
    expect(openai).toMatchObject({
      modelName: 'gpt-4o',
      upstreamModel: 'gpt-4o',
      apiBase: 'https://api.openai.com/v1',
      apiKey: 'sk-openai',
      protocol: 'openai-chat',
      identity: { mode: 'default' },
    });
    expect(openai!.provider.name).toBe('openai');
    // Anthropic paths carry /v1 themselves, so a base ending in /v1 is trimmed.
    expect(claude).toMatchObject({
      apiBase: 'https://api.anthropic.com',
      apiKey: 'sk-ant',
      protocol: 'anthropic-messages',
      timeoutMs: 30_000,
      firstByteTimeoutMs: 5_000,
    });
    expect(local).toMatchObject({
      apiBase: 'http://localhost:11434/v1',
      apiKey: undefined,
      identity: { mode: 'off' },
    });
    expect(grok).toMatchObject({
      apiBase: 'https://api.x.ai/v1',
      identity: { mode: 'custom', text: 'You are Grok.' },
    });
    expect(github).toMatchObject({
      upstreamModel: 'openai/gpt-4.1',
      apiBase: 'https://models.github.ai/inference',
      apiKey: 'ghp_x',
    });
    expect(wildcard!.passThroughKeys).toMatchObject({ github: 'ghp_x', openai: undefined });
    expect(config.masterKey).toBe('sk-master');
    expect(config.numRetries).toBe(3);
    expect(config.fallbacks).toEqual({ 'gpt-4o': ['claude'] });
  });

  it('keeps and reports keys it does not act on', () => {
    const config = load(litellmConfig);
    expect(config.warnings).toEqual(
      expect.arrayContaining([
        'model_list[0].litellm_params.rpm: kept but not used by Warren',
        'router_settings.routing_strategy: kept but not used by Warren',
        'general_settings.database_url: kept but not used by Warren',
        'litellm_settings.drop_params: kept but not used by Warren',
      ]),
    );
    expect((config.raw.general_settings as Record<string, unknown>).database_url).toBe('postgres://nowhere');
  });

  it('names the missing environment variable and where it is used', () => {
    expect(() => load(litellmConfig, { TEST_OPENAI_KEY: 'x' })).toThrow(
      /model_list\[1\]\.litellm_params\.api_key: environment variable TEST_ANTHROPIC_KEY is not set/,
    );
    expect(() => parseGatewayConfig({ general_settings: { master_key: 'os.environ/NOPE_KEY' } }, {})).toThrow(
      /general_settings\.master_key: environment variable NOPE_KEY is not set/,
    );
  });

  it('warns about a short master key', () => {
    expect(parseGatewayConfig({ general_settings: { master_key: 'sk-1234' } }, {}).warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/master_key is only 7 characters/)]),
    );
  });

  it('falls back to environment_variables from the file, the process environment winning', () => {
    const config = parseGatewayConfig(
      {
        environment_variables: { KEY_A: 'from-file', KEY_B: 'from-file' },
        model_list: [
          { model_name: 'a', litellm_params: { model: 'openai/a', api_key: 'os.environ/KEY_A' } },
          { model_name: 'b', litellm_params: { model: 'openai/b', api_key: 'os.environ/KEY_B' } },
        ],
      },
      { KEY_B: 'from-env' },
    );
    expect(config.models.map((model) => model.apiKey)).toEqual(['from-file', 'from-env']);
  });

  it('refuses unknown providers, bad URLs and malformed entries with the path of the problem', () => {
    expect(() =>
      parseGatewayConfig(
        { model_list: [{ model_name: 'x', litellm_params: { model: 'bedrock/claude' } }] },
        {},
      ),
    ).toThrow(/model_list\[0\]\.litellm_params\.model: "bedrock\/claude" names no provider/);
    expect(() =>
      parseGatewayConfig(
        { model_list: [{ model_name: 'x', litellm_params: { model: 'openai/x', api_base: 'ftp://h' } }] },
        {},
      ),
    ).toThrow(/only http and https/);
    expect(() =>
      parseGatewayConfig({ model_list: [{ litellm_params: { model: 'openai/x' } }] }, {}, 'c.yaml'),
    ).toThrow(/c\.yaml is not a valid gateway config:\n {2}model_list\.0\.model_name: Required/);
  });

  it('infers the provider of bare model names it knows, like LiteLLM', () => {
    const config = parseGatewayConfig(
      {
        model_list: [
          { model_name: 'c', litellm_params: { model: 'claude-opus-4-1' } },
          { model_name: 'g', litellm_params: { model: 'gpt-5' } },
        ],
      },
      {},
    );
    expect(config.models.map((model) => model.provider.name)).toEqual(['anthropic', 'openai']);
  });

  it('reports a missing or unreadable file and invalid YAML clearly', () => {
    expect(() => loadGatewayConfig('/nonexistent/litellm.yaml', {})).toThrow(
      /cannot read gateway config \/nonexistent/,
    );
    expect(() => load('model_list: [unclosed')).toThrow(/is not valid YAML/);
  });
});
