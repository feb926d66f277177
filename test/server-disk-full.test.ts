import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer } from '../src/server/serve.js';
import { chromiumAvailable, launchChromium } from './e2e/browser.js';
import { startHttpUpstream, type FakeUpstream } from './helpers/upstream.js';
import { fillFilesystem, linesOf, until } from './helpers/wait.js';

interface StoreStatusMessage {
  type: string;
  status?: { records: string; error?: string; pendingRows: number };
  message?: string;
}

function openEvents(
  url: string,
  cookie: string,
): Promise<{ socket: WebSocket; messages: StoreStatusMessage[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/api/events`, {
      headers: { Cookie: cookie, Origin: url },
    });
    const messages: StoreStatusMessage[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as StoreStatusMessage));
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('error', reject);
  });
}

/**
 * `warren serve` with WARREN_HOME on a 24 MiB tmpfs that fills up under a session's traffic: it keeps
 * serving, logs the refusal, tells every open page (and pages opened during the outage) on the events
 * socket, and writes the held flows once space returns, without a restart.
 */
describe('warren serve with WARREN_HOME on a full disk', () => {
  let upstream: FakeUpstream;
  let mountPoint: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    upstream = await startHttpUpstream((_request, response) => response.end(Buffer.alloc(64 * 1024, 'x')));
    mountPoint = mkdtempSync(join(tmpdir(), 'warren-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await upstream.close();
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it(
    'keeps the session serving, shows a banner in the web app, and stores every flow once space returns',
    { timeout: 120_000 },
    async () => {
      const workspace = mkdtempSync(join(tmpdir(), 'warren-ws-'));
      cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
      const filler = join(mountPoint, 'filler');
      const log: string[] = [];
      const server = await startServer({
        env: { ...process.env, WARREN_HOME: join(mountPoint, 'home') },
        host: '127.0.0.1',
        port: 0,
        log: (line) => log.push(line),
      });
      cleanups.push(() => server.close());
      const url = server.url.replace(/\/$/, '');
      const setup = await fetch(`${url}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: url },
        body: JSON.stringify({
          token: server.setupUrl?.split('/setup/')[1],
          password: 'a disk full of flows',
        }),
      });
      expect(setup.status).toBe(200);
      const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrfToken } = (await setup.json()) as { csrfToken: string };
      const events = await openEvents(url, cookie);
      cleanups.push(() => events.socket.close());

      // A browser logged in before the disk fills (logging in writes to the store). Without Chromium the
      // test fails with what to install, unless WARREN_ALLOW_SKIP=1 (then only the browser part is left out).
      let page: import('playwright-core').Page | undefined;
      if (chromiumAvailable()) {
        const browser = await launchChromium();
        cleanups.push(() => browser.close());
        page = await browser.context.newPage();
        await page.goto(`${url}/#/login`);
        await page.fill('#password', 'a disk full of flows');
        await page.click('button[type=submit]');
        await page.waitForSelector('#logout:visible');
      }

      const completed = join(workspace, 'completed.txt');
      const created = await fetch(`${url}/api/sessions`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: url,
          Cookie: cookie,
          'X-CSRF-Token': csrfToken,
        },
        body: JSON.stringify({
          agent: 'custom',
          command:
            `i=0; while [ ! -e /workspace/stop ]; do i=$((i+1)); ` +
            `curl -sSf --noproxy '' -o /dev/null http://localhost:${upstream.port}/s/$i && echo /s/$i >> /workspace/completed.txt; done`,
          workspace: { kind: 'in-place', path: workspace },
          allow: ['localhost'],
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { session } = (await created.json()) as { session: { id: string } };

      await until(() => linesOf(completed).length >= 20, 'the first requests');
      fillFilesystem(filler);
      const refusal = () =>
        events.messages.find((message) => message.type === 'store-status' && message.status?.error);
      await until(() => refusal() !== undefined, 'the store-status event');
      expect(refusal()?.status?.records).toBe('flows');
      expect(refusal()?.message).toMatch(/the store refuses flows \(SQLITE_FULL/);
      expect(log.some((line) => line.includes('the store refuses flows'))).toBe(true);
      // A page opened during the outage hears about it at once.
      const late = await openEvents(url, cookie);
      cleanups.push(() => late.socket.close());
      await until(
        () => late.messages.some((message) => message.type === 'store-status'),
        'the replayed status',
        5000,
      );
      // The web app: an open page shows the banner, and so does one (re)loaded during the outage.
      if (page) {
        const shown = page;
        const banner = () => shown.locator('#store-banner').innerText();
        await expect
          .poll(banner, { timeout: 10_000 })
          .toMatch(/the store refuses flows \(SQLITE_FULL.*held in memory/);
        await shown.reload();
        await expect.poll(banner, { timeout: 10_000 }).toMatch(/the store refuses flows/);
      }
      // A change that must be saved (a new login) is refused with a clear 503, not a 500.
      const refusedLogin = await fetch(`${url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: url },
        body: JSON.stringify({ password: 'a disk full of flows' }),
      });
      expect(refusedLogin.status).toBe(503);
      expect(((await refusedLogin.json()) as { error: { code: string } }).error.code).toBe('storage-full');
      // Still serving.
      const atRefusal = linesOf(completed).length;
      await until(() => linesOf(completed).length >= atRefusal + 30, 'requests while the disk is full');

      rmSync(filler);
      await until(
        () =>
          events.messages.some(
            (message) => message.type === 'store-status' && message.status?.error === undefined,
          ),
        'the recovery event',
        10_000,
      );
      expect(log.some((line) => line.includes('the store takes flows again'))).toBe(true);
      if (page) {
        const shown = page;
        await expect.poll(() => shown.locator('#store-banner').innerText(), { timeout: 10_000 }).toBe('');
      }
      writeFileSync(join(workspace, 'stop'), '');
      await until(() => server.runtime.store.sessions.get(session.id)?.state === 'ended', 'the session end');
      const stored = new Set(
        server.runtime.store.flows
          .query({ sessionId: session.id, limit: 100_000 })
          .map((flow) => new URL(flow.url).pathname),
      );
      const done = linesOf(completed);
      expect(done.length).toBeGreaterThan(50);
      expect(done.filter((path) => !stored.has(path))).toEqual([]);
    },
  );
});
