import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/serve.js';
import { defaultText, startFakeOpenAi } from './helpers/fake-llm.js';

describe('warren serve with the model gateway', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(
    'offers the configured models, gives sessions a gateway key, and shows their usage',
    { timeout: 60_000 },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'warren-usage-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      const fake = await startFakeOpenAi();
      cleanups.push(() => fake.close());
      writeFileSync(
        join(home, 'warren.yaml'),
        [
          'model_list:',
          '  - model_name: gpt-fake',
          '    litellm_params:',
          '      model: openai/gpt-fake',
          `      api_base: ${fake.url}/v1`,
          '      api_key: sk-upstream-secret',
        ].join('\n'),
      );
      const server = await startServer({
        env: { ...process.env, WARREN_HOME: home },
        host: '127.0.0.1',
        port: 0,
      });
      cleanups.push(() => server.close());
      const origin = server.url.replace(/\/$/, '');
      const setup = await fetch(`${origin}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body: JSON.stringify({
          token: server.setupUrl?.split('/setup/')[1],
          password: 'usage test password',
        }),
      });
      const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrfToken } = (await setup.json()) as { csrfToken: string };
      const presets = (await (
        await fetch(`${origin}/api/presets`, { headers: { Cookie: cookie } })
      ).json()) as { models: string[] };
      expect(presets.models).toEqual(['gpt-fake']);

      const call =
        'curl -s "$OPENAI_BASE_URL/chat/completions" -H "Authorization: Bearer $OPENAI_API_KEY" ' +
        `-H 'Content-Type: application/json' -d '{"model":"gpt-fake","messages":[{"role":"user","content":"hi"}]}'; ` +
        'case "$OPENAI_API_KEY" in *sk-upstream-secret*) echo LEAKED;; esac';
      const created = await fetch(`${origin}/api/sessions`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: origin,
          Cookie: cookie,
          'X-CSRF-Token': csrfToken,
        },
        body: JSON.stringify({ agent: 'custom', command: call, model: 'gpt-fake' }),
      });
      expect(created.status).toBe(201);
      const { session } = (await created.json()) as { session: { id: string } };
      await server.sessions.live(session.id)?.finished;
      const usage = (await (
        await fetch(`${origin}/api/sessions/${session.id}/usage`, { headers: { Cookie: cookie } })
      ).json()) as {
        available: boolean;
        usage: { byModel: { key: string; requests: number; errors: number }[] };
      };
      expect(usage.available).toBe(true);
      expect(usage.usage.byModel).toEqual([
        expect.objectContaining({ key: 'gpt-fake', requests: 1, errors: 0 }),
      ]);
      expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-upstream-secret');
      const recording = await (
        await fetch(`${origin}/api/sessions/${session.id}/recording`, { headers: { Cookie: cookie } })
      ).text();
      expect(recording).toContain(JSON.stringify(defaultText).slice(1, 20));
      expect(recording).not.toContain('LEAKED');
    },
  );
});
