import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRealServer } from './e2e/serve-harness.js';

function hostGit(workspace: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], {
    cwd: workspace,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

interface SessionBody {
  session: {
    id: string;
    state: string;
    protectedPaths: { changes: { path: string; change: string; outcome: string; diff?: string }[] } | null;
  };
}

/** `warren serve` with the real sandbox: a session's protected-path report is in GET /api/sessions/:id. */
describe('serve: protected paths in the session record', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('GET /api/sessions/:id lists what an in-place session changed, and the host runs none of it', async () => {
    const real = await startRealServer();
    cleanups.push(() => real.dispose());
    const url = real.url.replace(/\/$/, '');
    const token = real.setupUrl?.split('/setup/')[1];
    const setup = await fetch(`${url}/api/setup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: url },
      body: JSON.stringify({ token, password: 'a protected password' }),
    });
    expect(setup.status).toBe(200);
    const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrfToken } = (await setup.json()) as { csrfToken: string };

    const folder = mkdtempSync(join(tmpdir(), 'warren-serve-protected-'));
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    const workspace = join(folder, 'project');
    execFileSync('git', ['init', '-q', '-b', 'main', workspace]);
    writeFileSync(join(workspace, 'README.md'), 'hello\n');
    hostGit(workspace, 'add', 'README.md');
    hostGit(workspace, 'commit', '-q', '-m', 'first');
    const marker = join(folder, 'pwned');

    const created = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: { Cookie: cookie, Origin: url, 'X-CSRF-Token': csrfToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        agent: 'custom',
        command: `git config core.fsmonitor 'touch ${marker}; false'; echo 'touch ${marker}' > .envrc`,
        workspace: { kind: 'in-place', path: workspace },
      }),
    });
    expect(created.status).toBe(201);
    const { session } = (await created.json()) as SessionBody;

    let latest: SessionBody['session'] = session;
    const deadline = Date.now() + 30_000;
    while (latest.state === 'running' || latest.state === 'starting') {
      if (Date.now() > deadline) throw new Error('the session did not end');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await fetch(`${url}/api/sessions/${session.id}`, { headers: { Cookie: cookie } });
      latest = ((await response.json()) as SessionBody).session;
    }
    expect(latest.state).toBe('ended');
    expect(
      latest.protectedPaths?.changes.map(({ path, change, outcome }) => ({ path, change, outcome })),
    ).toEqual([
      { path: '.git/config', change: 'changed', outcome: 'kept-private' },
      { path: '.envrc', change: 'created', outcome: 'quarantined' },
    ]);
    expect(latest.protectedPaths?.changes[0]?.diff).toContain(`fsmonitor = "touch ${marker}; false"`);

    hostGit(workspace, 'status');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(workspace, '.envrc'))).toBe(false);
  }, 90_000);
});
