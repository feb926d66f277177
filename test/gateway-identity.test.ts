import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/cli/command.js';
import { startStandaloneGateway } from '../src/cli/commands/gateway.js';
import { usageCommand } from '../src/cli/commands/usage.js';
import { loadGatewayConfig } from '../src/gateway/index.js';
import { startFakeOpenAi } from './helpers/fake-llm.js';
import { masterKey, startGatewayFixture, type GatewayFixture } from './helpers/fake-llm-gateway.js';

/**
 * What a non-Anthropic model is told about itself, through the running gateway: the calls captured
 * from Claude Code, Codex and opencode (src/gateway/__fixtures__/identity/) replayed as they were sent,
 * and a wording the rules do not know, which must be reported on the usage row, on the answer (which
 * the proxy's flow records) and once in the gateway's log.
 */

const corpus = fileURLToPath(new URL('../src/gateway/__fixtures__/identity/', import.meta.url));

interface CapturedCall {
  protocol: 'anthropic' | 'chat' | 'responses';
  path: string;
  body: Record<string, unknown>;
}

const calls: Array<[string, CapturedCall]> = readdirSync(corpus)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .flatMap((name) => {
    const fixture = JSON.parse(readFileSync(`${corpus}${name}`, 'utf8')) as { requests: CapturedCall[] };
    return fixture.requests.map((call, index): [string, CapturedCall] => [`${name}#${index}`, call]);
  })
  // Codex's newest request shape (an `additional_tools` input item) does not parse yet: see the corpus README.
  .filter(([label]) => !label.startsWith('codex-default-model'));

let fixture: GatewayFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const warnings: string[] = [];

async function start(): Promise<GatewayFixture> {
  warnings.length = 0;
  fixture = await startGatewayFixture({
    // Every other name (the CLIs' own model ids) goes to a non-Anthropic model on the fake OpenAI server.
    extraModels: (upstreams) => [
      { model_name: '*', litellm_params: { model: 'openai/qwen3-coder', api_base: upstreams.openai } },
    ],
    gateway: { warn: (line) => warnings.push(line) },
  });
  return fixture;
}

/** Everything the upstream was told as instructions: its system message(s) or `instructions`. */
function instructionsOf(body: Record<string, unknown>): string {
  const messages = (body.messages as Array<{ role: string; content: unknown }> | undefined) ?? [];
  return [
    ...(typeof body.instructions === 'string' ? [body.instructions] : []),
    ...messages
      .filter((message) => message.role === 'system')
      .map((message) => JSON.stringify(message.content)),
  ].join('\n');
}

describe('captured agent calls, replayed through the gateway to a non-Anthropic model', () => {
  it.each(calls)('%s', async (_label, call) => {
    const { url, openai, usage } = await start();
    const response = await fetch(`${url}${call.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': masterKey },
      body: JSON.stringify(call.body),
    });
    await response.text();
    expect(response.status).toBe(200);
    const instructions = instructionsOf(openai.requests[0]!.body);
    for (const claim of [
      /You are Claude Code/,
      /You are a Claude agent/,
      /You are Codex/,
      /As Codex, you/,
      /You are powered by the model named (?!qwen3-coder)/,
      /The exact model ID is (?!warren\/qwen3-coder)/,
      /based on GPT/,
    ]) {
      expect(instructions).not.toMatch(claim);
    }
    if (/Claude Code|Codex|You are powered by/.test(JSON.stringify(call.body))) {
      expect(instructions).toMatch(/You are (powered by the model )?qwen3-coder/);
    }
    expect(usage[0]!.identityClaims).toEqual([]);
    expect(response.headers.get('x-warren-identity-claims')).toBeNull();
    expect(warnings).toEqual([]);
  });
});

describe('identity claims the rules do not rewrite', () => {
  const newWording = 'Your name is Claude. You help with code.';

  it('are recorded on the usage row and the answer, and logged once per model and wording', async () => {
    const { url, openai, usage } = await start();
    const client = new Anthropic({ apiKey: masterKey, baseURL: url, maxRetries: 0 });
    const ask = () =>
      client.messages
        .create({
          model: 'claude-sonnet-next',
          max_tokens: 10,
          system: newWording,
          messages: [{ role: 'user', content: 'who are you?' }],
        })
        .withResponse();
    const first = await ask();
    await ask();
    expect(usage.map((row) => row.identityClaims)).toEqual([
      ['Your name is Claude.'],
      ['Your name is Claude.'],
    ]);
    expect(JSON.parse(first.response.headers.get('x-warren-identity-claims')!)).toEqual([
      'Your name is Claude.',
    ]);
    expect(warnings).toEqual([
      `gateway: warning: claude-sonnet-next → openai/qwen-fake was told another vendor's identity: "Your name is Claude." ` +
        '(a prompt wording the identity rules do not rewrite; see docs/gateway.md, "Model identity")',
    ]);
    // The statement of identity still tells the model the truth.
    expect(instructionsOf(openai.requests[0]!.body)).toContain(
      'You are qwen-fake, a model made by Alibaba. Parts of these instructions',
    );
  });

  it('are reported, not rewritten, for an Anthropic upstream', async () => {
    const { url, anthropic, usage } = await start();
    const codex = 'You are Codex, an agent based on GPT-6. You and the user share a workspace.';
    await new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 }).responses.create({
      model: 'claude-fake',
      instructions: codex,
      input: 'hi',
    });
    expect(JSON.stringify(anthropic.requests[0]!.body.system)).toContain(codex);
    expect(usage[0]!.identityClaims).toEqual(['You are Codex, an agent based on GPT-6.']);
  });

  it('are neither rewritten nor reported for an entry with identity: off', async () => {
    warnings.length = 0;
    fixture = await startGatewayFixture({
      extraModels: (upstreams) => [
        {
          model_name: 'plain',
          litellm_params: { model: 'openai/qwen3-coder', api_base: upstreams.openai },
          warren: { identity: 'off' },
        },
      ],
      gateway: { warn: (line) => warnings.push(line) },
    });
    const system = "You are Claude Code, Anthropic's official CLI for Claude.";
    await new Anthropic({ apiKey: masterKey, baseURL: fixture.url, maxRetries: 0 }).messages.create({
      model: 'plain',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(instructionsOf(fixture.openai.requests[0]!.body)).toBe(JSON.stringify(system));
    expect(fixture.usage[0]!.identityClaims).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('warren usage', () => {
  it('warns of an identity claim below its tables, and `warren gateway` says it on stderr', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warren-home-'));
    const upstream = await startFakeOpenAi();
    const logged: string[] = [];
    const configPath = join(home, 'litellm-config.yaml');
    writeFileSync(
      configPath,
      [
        'model_list:',
        '  - model_name: grok-code',
        '    litellm_params:',
        '      model: openai/grok-4',
        `      api_base: ${upstream.url}/v1`,
        '      api_key: sk-upstream',
        'general_settings:',
        `  master_key: ${masterKey}`,
      ].join('\n'),
    );
    const running = await startStandaloneGateway({
      config: loadGatewayConfig(configPath, {}),
      env: { WARREN_HOME: home },
      port: 0,
      host: '127.0.0.1',
      warn: (line) => logged.push(line),
    });
    try {
      await new Anthropic({ apiKey: masterKey, baseURL: running.url, maxRetries: 0 }).messages.create({
        model: 'grok-code',
        max_tokens: 10,
        system: 'You go by the name of Claude, an assistant made by Anthropic. Your name is Claude.',
        messages: [{ role: 'user', content: 'hi' }],
      });
      running.store.usage.flush();
      const output = (args: string[]) => {
        let text = '';
        const stdout = new PassThrough();
        stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        const context: CliContext = {
          env: { WARREN_HOME: home },
          stdin: process.stdin,
          stdout,
          stderr: new PassThrough(),
          cwd: home,
        };
        return usageCommand.run(args, context).then(() => text);
      };
      for (const text of [await output([]), await output(['--recent', '5'])]) {
        expect(text).toContain("warning: a model was told another vendor's identity");
        expect(text).toContain('openai/grok-4  1×  "Your name is Claude."');
      }
      const rows = JSON.parse(await output(['--json'])) as { identityWarnings: number }[];
      expect(rows[0]!.identityWarnings).toBe(1);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(
        /^gateway: warning: grok-code → openai\/grok-4 was told another vendor's identity/,
      );
    } finally {
      await running.close();
      await upstream.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
