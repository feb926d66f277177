import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveProcess } from './helpers/serve-process.js';

describe('warren serve across a crash', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it(
    'marks sessions left running as ended on restart, keeping flows, recording and the workspace copy',
    { timeout: 90_000 },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'warren-restart-'));
      const project = mkdtempSync(join(tmpdir(), 'warren-project-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      cleanups.push(() => rmSync(project, { recursive: true, force: true }));
      writeFileSync(join(project, 'hello.txt'), 'original\n');

      const first = await serveProcess(home);
      cleanups.push(() => first.child.kill('SIGKILL'));
      const origin = first.url;
      const setup = await fetch(`${origin}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body: JSON.stringify({ token: first.setupToken, password: 'restart test password' }),
      });
      expect(setup.status).toBe(200);
      const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrfToken } = (await setup.json()) as { csrfToken: string };
      const created = await fetch(`${origin}/api/sessions`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: origin,
          Cookie: cookie,
          'X-CSRF-Token': csrfToken,
        },
        body: JSON.stringify({
          agent: 'custom',
          command: 'cat hello.txt; echo changed > hello.txt; echo wrote-it; sleep 60',
          workspace: { kind: 'copy', path: project },
        }),
      });
      expect(created.status).toBe(201);
      const { session } = (await created.json()) as { session: { id: string; workspace: string } };
      expect(session.workspace).toBe(join(home, 'sessions', session.id, 'workspace'));
      const deadline = Date.now() + 20_000;
      const castPath = join(home, 'sessions', session.id, 'terminal.cast');
      while (!(existsSync(castPath) && readFileSync(castPath, 'utf8').includes('wrote-it'))) {
        if (Date.now() > deadline) throw new Error('the session never wrote its marker');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(readFileSync(join(session.workspace, 'hello.txt'), 'utf8')).toBe('changed\n');
      expect(readFileSync(join(project, 'hello.txt'), 'utf8')).toBe('original\n');

      // A crash: no chance to record the end.
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));

      const second = await serveProcess(home);
      cleanups.push(() => second.child.kill('SIGTERM'));
      expect(second.setupToken).toBeUndefined();
      const login = await fetch(`${second.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: second.url },
        body: JSON.stringify({ password: 'restart test password' }),
      });
      expect(login.status).toBe(200);
      const secondCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const after = (await (
        await fetch(`${second.url}/api/sessions/${session.id}`, { headers: { Cookie: secondCookie } })
      ).json()) as {
        session: { state: string; attachable: boolean; endedAt: number | null };
      };
      expect(after.session).toMatchObject({ state: 'ended', attachable: false });
      expect(after.session.endedAt).not.toBeNull();
      const recording = await fetch(`${second.url}/api/sessions/${session.id}/recording`, {
        headers: { Cookie: secondCookie },
      });
      expect(await recording.text()).toContain('wrote-it');
      expect(readFileSync(join(session.workspace, 'hello.txt'), 'utf8')).toBe('changed\n');
    },
  );
});
