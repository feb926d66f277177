import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/serve.js';
import { setUpAndLogIn, startAppHarness } from './e2e/app-harness.js';
import { openRawWebSocket } from './helpers/raw-websocket.js';

/**
 * DNS rebinding, byte for byte: a page on evil.example whose name now resolves to 127.0.0.1 sends
 * `Host: evil.example:PORT` and `Origin: http://evil.example:PORT` (the two agree, so the Origin
 * check alone lets it in). Every request and upgrade with a Host that is not ours gets 421.
 */

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One HTTP request written by hand (any Host, or none), read until the server closes. */
function rawRequest(port: number, text: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const end = received.indexOf('\r\n\r\n');
      const head = end < 0 ? received : received.slice(0, end);
      const raw = end < 0 ? '' : received.slice(end + 4);
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: /^transfer-encoding: chunked$/im.test(head) ? unchunk(raw) : raw,
      });
    });
  });
}

/** A chunked body, joined (enough for the short ASCII bodies here). */
function unchunk(raw: string): string {
  let body = '';
  let rest = raw;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

function get(port: number, path: string, headers: Record<string, string>): Promise<RawAnswer> {
  const lines = Object.entries({ ...headers, Connection: 'close' }).map(
    ([name, value]) => `${name}: ${value}`,
  );
  return rawRequest(port, `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
}

function post(port: number, path: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
  const all = {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}`);
  return rawRequest(port, `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
}

describe('warren serve: Host names', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers 421 to a DNS-rebinding page on every path and upgrade, before auth, and logs it', async () => {
    const harness = await startAppHarness({ hostNames: ['warren.tailnet.ts.net'] });
    cleanups.push(() => harness.close());
    const port = Number(new URL(harness.url).port);
    const { cookie, csrf } = await setUpAndLogIn(harness);
    const evil = { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}`, Cookie: cookie };

    const answers = [
      await get(port, '/', evil),
      await get(port, '/api/health', evil),
      await get(port, '/api/sessions', evil),
      await get(port, '/api/me', evil),
      await post(port, '/api/login', evil, JSON.stringify({ password: 'correct horse battery' })),
      await post(port, '/api/sessions', { ...evil, 'X-CSRF-Token': csrf }, '{"agent":"shell"}'),
      // A header a proxy would set cannot vouch for the name: the page can send it too.
      await get(port, '/api/me', { ...evil, 'X-Forwarded-Host': `127.0.0.1:${port}` }),
    ];
    for (const answer of answers) {
      expect(answer.status, answer.head).toBe(421);
      const body = JSON.parse(answer.body) as { error: { code: string; message: string; hint: string } };
      expect(body.error.code).toBe('misdirected');
      expect(body.error.message).toContain('"evil.example"');
      expect(body.error.hint).toContain('serve.hosts in warren.yaml');
      expect(body.error.hint).toContain('--public-url https://evil.example');
      // The names that are allowed are not told to the page.
      expect(answer.body).not.toContain('tailnet');
    }
    // Nothing was created or touched through the refused requests.
    const listed = await fetch(`${harness.url}/api/sessions`, { headers: { Cookie: cookie } });
    expect(await listed.json()).toEqual({ sessions: [] });

    for (const path of ['/api/events', '/api/sessions/s-anything/terminal']) {
      const upgrade = await openRawWebSocket(port, path, evil);
      expect(upgrade.status, path).toBe(421);
      expect(upgrade.head).toContain('421 Misdirected Request');
      expect(upgrade.body).toContain('serve.hosts');
    }
    expect(harness.logs.some((line) => line.includes('refused Host "evil.example:'))).toBe(true);
  });

  it('lets loopback names, the bound address and configured names through, whatever their case, port or trailing dot', async () => {
    const harness = await startAppHarness({ hostNames: ['warren.tailnet.ts.net'] });
    cleanups.push(() => harness.close());
    const port = Number(new URL(harness.url).port);
    const { cookie } = await setUpAndLogIn(harness);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LocalHost.:${port}`,
      `[::1]:${port}`,
      'warren.tailnet.ts.net',
      'Warren.Tailnet.TS.NET.:443',
    ]) {
      expect((await get(port, '/api/me', { Host: host, Cookie: cookie })).status, host).toBe(200);
      expect((await get(port, '/', { Host: host })).status, host).toBe(200);
      // The WebSocket Origin check still compares Origin with this Host.
      const origin = `http://${host}`;
      const upgrade = await openRawWebSocket(port, '/api/events', {
        Host: host,
        Origin: origin,
        Cookie: cookie,
      });
      expect(upgrade.status, host).toBe(101);
      upgrade.destroy();
    }
    for (const host of [
      'warren.tailnet.ts.net.evil.example',
      '0.0.0.0',
      `[::]:${port}`,
      '127.0.0.1.nip.io',
    ]) {
      expect((await get(port, '/api/health', { Host: host })).status, host).toBe(421);
    }
  });

  it('refuses a missing or malformed Host with 400', async () => {
    const harness = await startAppHarness();
    cleanups.push(() => harness.close());
    const port = Number(new URL(harness.url).port);
    // HTTP/1.0 may leave Host out; Node answers HTTP/1.1 without Host itself (also 400).
    const http10 = await rawRequest(port, 'GET /api/health HTTP/1.0\r\n\r\n');
    expect(http10.status).toBe(400);
    const http11 = await rawRequest(port, 'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(http11.status).toBe(400);
    for (const host of [`evil.example@127.0.0.1:${port}`, '127.0.0.1/evil', '127.0.0.1:99999']) {
      expect((await get(port, '/api/health', { Host: host })).status, host).toBe(400);
    }
    const upgrade = await openRawWebSocket(port, '/api/events', { Host: 'evil@127.0.0.1' });
    expect(upgrade.status).toBe(400);
  });

  it('with --public-url and serve.hosts: prints the setup link with the public name, and a tailscale-serve request completes setup', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warren-hosts-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    writeFileSync(join(home, 'warren.yaml'), 'serve:\n  hosts: [proxy.example.internal]\n');
    const server = await startServer({
      env: { ...process.env, WARREN_HOME: home },
      host: '127.0.0.1',
      port: 0,
      publicUrl: 'https://warren.tailnet.ts.net',
    });
    cleanups.push(() => server.close());
    const port = Number(new URL(server.url).port);
    expect(server.publicUrl).toBe('https://warren.tailnet.ts.net/');
    expect(server.setupUrl).toMatch(/^https:\/\/warren\.tailnet\.ts\.net\/#\/setup\/[\w-]+$/);

    // As `tailscale serve` forwards it: the browser's Host, X-Forwarded-Proto, the https Origin.
    const tailscale = {
      Host: 'warren.tailnet.ts.net',
      Origin: 'https://warren.tailnet.ts.net',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'warren.tailnet.ts.net',
    };
    const token = server.setupUrl?.split('/setup/')[1] ?? '';
    const setup = await post(
      port,
      '/api/setup',
      tailscale,
      JSON.stringify({ token, password: 'a long enough password' }),
    );
    expect(setup.status, setup.body).toBe(200);
    expect((await get(port, '/', { Host: 'proxy.example.internal' })).status).toBe(200);
    expect((await get(port, '/', { Host: `127.0.0.1:${port}` })).status).toBe(200);
    const foreign = await get(port, '/', { ...tailscale, Host: 'other.tailnet.ts.net' });
    expect(foreign.status).toBe(421);
  });

  it('refuses to start with a serve.hosts entry that is not a name', async () => {
    const home = mkdtempSync(join(tmpdir(), 'warren-hosts-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    writeFileSync(join(home, 'warren.yaml'), 'serve:\n  hosts: ["https://warren.example/"]\n');
    await expect(
      startServer({ env: { ...process.env, WARREN_HOME: home }, host: '127.0.0.1', port: 0 }),
    ).rejects.toThrow(/serve\.hosts\.0: a host name or IP address, without scheme or port/);
  });
});
