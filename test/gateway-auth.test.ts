import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startStandaloneGateway } from '../src/cli/commands/gateway.js';
import { tokenCommand } from '../src/cli/commands/token.js';
import { usageCommand } from '../src/cli/commands/usage.js';
import type { CliContext } from '../src/cli/command.js';
import { createStoredTokenVerifier, loadGatewayConfig } from '../src/gateway/index.js';
import { openStore } from '../src/store/index.js';
import { defaultText, startFakeAnthropic, startFakeOpenAi } from './helpers/fake-llm.js';
import { masterKey, startGatewayFixture, startSessionFront } from './helpers/fake-llm-gateway.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clients(url: string, key: string | null) {
  return {
    openai: new OpenAI({
      apiKey: key ?? 'unused',
      baseURL: `${url}/v1`,
      maxRetries: 0,
      ...(key === null ? { defaultHeaders: { authorization: null } } : {}),
    }),
    anthropic: new Anthropic({
      apiKey: key ?? 'unused',
      baseURL: url,
      maxRetries: 0,
      ...(key === null ? { defaultHeaders: { 'x-api-key': null } } : {}),
    }),
  };
}

async function statusOf(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { status?: number }).status ?? String(error);
  }
}

function callBoth(url: string, key: string | null, model = 'gpt-fake') {
  const { openai, anthropic } = clients(url, key);
  return Promise.all([
    statusOf(openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })),
    statusOf(
      anthropic.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    ),
  ]);
}

describe('gateway authentication', () => {
  it('refuses a missing or wrong key with 401 in each caller shape, and accepts the master key', async () => {
    const fixture = await startGatewayFixture();
    cleanups.push(() => fixture.close());
    expect(await callBoth(fixture.url, null)).toEqual([401, 401]);
    expect(await callBoth(fixture.url, 'sk-test-maste')).toEqual([401, 401]);
    expect(await callBoth(fixture.url, masterKey)).toEqual([200, 200]);
    const response = await fetch(`${fixture.url}/v1/messages`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: expect.stringMatching(/missing API key/) },
    });
    expect(fixture.openai.requests).toHaveLength(2);
  });

  it('logs one line per call naming the model, the upstream and the tokens', async () => {
    const lines: string[] = [];
    const fixture = await startGatewayFixture({ gateway: { log: (line) => lines.push(line) } });
    cleanups.push(() => fixture.close());
    await callBoth(fixture.url, masterKey, 'claude-fake');
    await callBoth(fixture.url, 'wrong');
    // The two SDK calls of each pair run concurrently, so their lines may come in either order.
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /POST \/v1\/chat\/completions 200 [\d.]+ms claude-fake → anthropic\/claude-fake in 11 out 7$/,
        ),
        expect.stringMatching(
          /POST \/v1\/messages 200 [\d.]+ms claude-fake → anthropic\/claude-fake in 11 out 7$/,
        ),
        expect.stringMatching(/POST \/v1\/chat\/completions 401 [\d.]+ms$/),
        expect.stringMatching(/POST \/v1\/messages 401 [\d.]+ms$/),
      ]),
    );
  });

  it('answers /health without a key and refuses /v1/models without one', async () => {
    const fixture = await startGatewayFixture();
    cleanups.push(() => fixture.close());
    expect(await (await fetch(`${fixture.url}/health`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${fixture.url}/v1/models`)).status).toBe(401);
    const unknown = await fetch(`${fixture.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}` },
    });
    expect(unknown.status).toBe(404);
  });

  it('accepts stored tokens until they are revoked, and limits them to their models', async () => {
    const store = openStore(':memory:');
    cleanups.push(() => store.close());
    const tokens = store.tokens;
    const fixture = await startGatewayFixture({ gateway: { tokens: createStoredTokenVerifier(tokens) } });
    cleanups.push(() => fixture.close());
    const { issueStoredToken } = await import('../src/gateway/index.js');
    const all = issueStoredToken(tokens, { name: 'all', models: null, expiresAt: null });
    const limited = issueStoredToken(tokens, { name: 'limited', models: ['claude-fake'], expiresAt: null });
    const expired = issueStoredToken(tokens, { name: 'old', models: null, expiresAt: Date.now() - 1 });
    expect(await callBoth(fixture.url, all.secret)).toEqual([200, 200]);
    expect(await callBoth(fixture.url, limited.secret, 'gpt-fake')).toEqual([403, 403]);
    expect(fixture.usage.filter((entry) => entry.status === 403)).toMatchObject([
      {
        tokenId: limited.id,
        model: 'gpt-fake',
        upstream: null,
        error: expect.stringMatching(/may not use model/),
      },
      {
        tokenId: limited.id,
        model: 'gpt-fake',
        upstream: null,
        error: expect.stringMatching(/may not use model/),
      },
    ]);
    expect(await callBoth(fixture.url, limited.secret, 'claude-fake')).toEqual([200, 200]);
    expect(await callBoth(fixture.url, expired.secret)).toEqual([401, 401]);
    const listed = await clients(fixture.url, limited.secret).openai.models.list();
    expect(listed.data.map((model) => model.id)).toEqual(['claude-fake']);
    tokens.revoke('all', Date.now());
    expect(await callBoth(fixture.url, all.secret)).toEqual([401, 401]);
    expect(fixture.usage.filter((entry) => entry.caller === 'token').map((entry) => entry.tokenId)).toContain(
      all.id,
    );
  });

  it('issues per-session tokens that work only from their own session and stop at revocation', async () => {
    const fixture = await startGatewayFixture();
    cleanups.push(() => fixture.close());
    const front1 = await startSessionFront(fixture.gateway, 'session-1');
    const front2 = await startSessionFront(fixture.gateway, 'session-2');
    for (const front of [front1, front2]) {
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            front.server.closeAllConnections();
            front.server.close(() => resolve());
          }),
      );
    }
    const token1 = fixture.gateway.issueSessionToken('session-1');
    expect(await callBoth(front1.url, token1)).toEqual([200, 200]);
    // A token carried out of its sandbox is refused on another session's socket, and outside any.
    expect(await callBoth(front2.url, token1)).toEqual([401, 401]);
    expect(await callBoth(fixture.url, token1)).toEqual([401, 401]);
    expect(fixture.usage.map((entry) => [entry.caller, entry.sessionId])).toEqual([
      ['session', 'session-1'],
      ['session', 'session-1'],
    ]);
    // The master key through a session's socket is still attributed to that session.
    expect(await callBoth(front2.url, masterKey)).toEqual([200, 200]);
    expect(fixture.usage.at(-1)).toMatchObject({ caller: 'master', sessionId: 'session-2' });
    expect(fixture.gateway.revokeSessionToken('session-1')).toBe(true);
    expect(await callBoth(front1.url, token1)).toEqual([401, 401]);
  });
});

function cliContext(env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const context: CliContext = { env, stdin: process.stdin, stdout, stderr, cwd: process.cwd() };
  return { context, output: () => out, errors: () => err };
}

describe('warren gateway, token and usage commands', () => {
  it('creates a token the standalone gateway accepts, records usage, revokes it, and summarises usage', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warren-home-'));
    const env = { WARREN_HOME: home };
    const openaiFake = await startFakeOpenAi();
    const anthropicFake = await startFakeAnthropic();
    cleanups.push(
      () => openaiFake.close(),
      () => anthropicFake.close(),
    );
    const configPath = join(home, 'litellm-config.yaml');
    writeFileSync(
      configPath,
      [
        'model_list:',
        '  - model_name: gpt-fake',
        '    litellm_params:',
        '      model: openai/gpt-fake',
        `      api_base: ${openaiFake.url}/v1`,
        '      api_key: os.environ/FAKE_OPENAI_KEY',
        '  - model_name: claude-fake',
        '    litellm_params:',
        '      model: anthropic/claude-fake',
        `      api_base: ${anthropicFake.url}`,
        'general_settings:',
        '  master_key: sk-cli-master',
      ].join('\n'),
    );
    const created = cliContext(env);
    expect(await tokenCommand.run(['create', '--name', 'laptop', '--expires', '30d'], created.context)).toBe(
      0,
    );
    const secret = created.output().trim();
    expect(secret).toMatch(/^wrn_/);
    expect(created.errors()).toMatch(/cannot be shown again/);

    const running = await startStandaloneGateway({
      config: loadGatewayConfig(configPath, { FAKE_OPENAI_KEY: 'sk-fake' }),
      env,
      port: 0,
      host: '127.0.0.1',
    });
    cleanups.push(() => running.close());
    const { openai, anthropic } = clients(running.url, secret);
    const completion = await openai.chat.completions.create({
      model: 'gpt-fake',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]!.message.content).toBe(defaultText);
    const streamed = await anthropic.messages
      .stream({ model: 'claude-fake', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(streamed.content[0]).toMatchObject({ text: defaultText });
    expect(openaiFake.requests[0]!.headers.authorization).toBe('Bearer sk-fake');

    const listed = cliContext(env);
    await tokenCommand.run(['list'], listed.context);
    expect(listed.output()).toMatch(/laptop .* live/);
    expect(listed.output()).not.toContain(secret);

    const revoked = cliContext(env);
    expect(await tokenCommand.run(['revoke', 'laptop'], revoked.context)).toBe(0);
    expect(await callBoth(running.url, secret)).toEqual([401, 401]);

    // The gateway writes usage in batches; another process (warren usage) sees a batch once written.
    running.store.usage.flush();
    const summary = cliContext(env);
    expect(await usageCommand.run(['--by', 'model'], summary.context)).toBe(0);
    expect(summary.output()).toMatch(/gpt-fake\s+1\s+0\s+11\s+7/);
    expect(summary.output()).toMatch(/claude-fake\s+1\s+0\s+11\s+7/);
    const byToken = cliContext(env);
    await usageCommand.run(['--by', 'token'], byToken.context);
    expect(byToken.output()).toMatch(/laptop \(tok_[0-9a-f]+\)\s+2\s+0/);
    const recent = cliContext(env);
    await usageCommand.run(['--recent', '5', '--json'], recent.context);
    const calls = JSON.parse(recent.output()) as {
      model: string;
      caller: string;
      stream: boolean;
      timeToFirstTokenMs: number | null;
    }[];
    expect(calls.map((call) => [call.model, call.caller, call.stream])).toEqual([
      ['claude-fake', 'token', true],
      ['gpt-fake', 'token', false],
    ]);
    expect(calls[0]!.timeToFirstTokenMs).toBeGreaterThan(0);
  });

  it('explains bad arguments', async () => {
    const env = { WARREN_HOME: mkdtempSync(join(tmpdir(), 'warren-home-')) };
    await expect(tokenCommand.run(['create'], cliContext(env).context)).rejects.toThrow(/needs --name/);
    await expect(
      tokenCommand.run(['create', '--name', 'x', '--expires', 'soon'], cliContext(env).context),
    ).rejects.toThrow(/--expires must be a duration/);
    await expect(tokenCommand.run(['revoke', 'ghost'], cliContext(env).context)).rejects.toThrow(
      /no live token/,
    );
    await expect(usageCommand.run(['--by', 'color'], cliContext(env).context)).rejects.toThrow(
      /--by must be one of/,
    );
  });
});
