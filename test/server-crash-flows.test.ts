import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type FakeUpstream } from './helpers/upstream.js';
import { until } from './helpers/wait.js';
import { serveProcess } from './helpers/serve-process.js';

/**
 * `kill -9` of `warren serve` while a session fetches in a loop: every response that completed at the
 * client has its flow, and the restarted server shows the session ended by a crash.
 */
describe('warren serve killed while a session fetches', () => {
  let upstream: FakeUpstream;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    upstream = await startHttpUpstream((request, response) => response.end(`ok ${request.url}`));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    await upstream.close();
  });

  it(
    'loses no flow whose response completed, and says the session ended by a crash',
    { timeout: 90_000 },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'warren-serve-crash-'));
      const workspace = mkdtempSync(join(tmpdir(), 'warren-ws-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
      const first = await serveProcess(home);
      cleanups.push(() => first.child.kill('SIGKILL'));
      const setup = await fetch(`${first.url}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: first.url },
        body: JSON.stringify({ token: first.setupToken, password: 'crash test password' }),
      });
      expect(setup.status).toBe(200);
      const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrfToken } = (await setup.json()) as { csrfToken: string };
      const created = await fetch(`${first.url}/api/sessions`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: first.url,
          Cookie: cookie,
          'X-CSRF-Token': csrfToken,
        },
        body: JSON.stringify({
          agent: 'custom',
          command:
            `i=0; while true; do i=$((i+1)); curl -sSf --noproxy '' -o /dev/null http://localhost:${upstream.port}/c/$i ` +
            `&& echo /c/$i >> /workspace/completed.txt; done`,
          workspace: { kind: 'in-place', path: workspace },
          allow: ['localhost'],
        }),
      });
      expect(created.status).toBe(201);
      const { session } = (await created.json()) as { session: { id: string } };
      const completedPath = join(workspace, 'completed.txt');
      const completed = () =>
        existsSync(completedPath) ? readFileSync(completedPath, 'utf8').split('\n').filter(Boolean) : [];
      await until(() => completed().length >= 200, 'requests through the session');

      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const done = completed();

      const second = await serveProcess(home);
      cleanups.push(() => second.child.kill('SIGTERM'));
      const login = await fetch(`${second.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: second.url },
        body: JSON.stringify({ password: 'crash test password' }),
      });
      const secondCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const row = (await (
        await fetch(`${second.url}/api/sessions/${session.id}`, { headers: { Cookie: secondCookie } })
      ).json()) as { session: { state: string; endReason: string | null; error: string | null } };
      expect(row.session).toMatchObject({ state: 'ended', endReason: 'crashed' });
      expect(row.session.error).toMatch(/^Warren \(pid \d+\) stopped without ending this session/);
      const har = (await (
        await fetch(`${second.url}/api/sessions/${session.id}/har`, { headers: { Cookie: secondCookie } })
      ).json()) as { log: { entries: { request: { url: string } }[] } };
      const stored = new Set(har.log.entries.map((entry) => new URL(entry.request.url).pathname));
      expect(done.filter((path) => !stored.has(path))).toEqual([]);
      const seen = upstream.seen.filter((request) => request.url.startsWith('/c/')).length;
      expect(seen).toBeGreaterThanOrEqual(done.length);
      expect(seen).toBeLessThanOrEqual(done.length + 2);
    },
  );
});
