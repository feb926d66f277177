import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { warren } from './cli/warren-cli.js';
import { setUpAndLogIn, startAppHarness } from './e2e/app-harness.js';
import { startRealServer } from './e2e/serve-harness.js';
import { closeOf, openRawWebSocket, type RawWebSocket } from './helpers/raw-websocket.js';

/**
 * A device's open WebSockets end with its login, however the login ends. Device B holds a terminal
 * socket and an events socket (`ws`, as a browser would), plus a raw terminal socket that ignores
 * the server's close frame and keeps typing (an attacker); device A (or `warren passwd`, or the
 * clock) ends B's login.
 */

/** The login watch re-reads logins every 500 ms (src/server/auth/login-watch.ts). */
const SWEEP_MS = 500;
/** For the tests of the other signals: a sweep this rare cannot be what closed the socket. */
const NO_SWEEP = { loginCheckIntervalMs: 600_000 };
/** Slack for a loaded CI machine on top of each bound. */
const SLACK_MS = 500;

interface Device {
  cookie: string;
  csrf: string;
}

interface Server {
  url: string;
  origin: string;
  port: number;
}

async function logIn(server: Server, password: string, userAgent: string): Promise<Device> {
  const response = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: server.origin, 'User-Agent': userAgent },
    body: JSON.stringify({ password }),
  });
  expect(response.status).toBe(200);
  return {
    cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] as string,
    csrf: ((await response.json()) as { csrfToken: string }).csrfToken,
  };
}

function call(server: Server, device: Device, method: string, path: string, body?: unknown) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      Cookie: device.cookie,
      Origin: server.origin,
      'X-CSRF-Token': device.csrf,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function startShell(server: Server, device: Device): Promise<{ id: string; workspace: string }> {
  const response = await call(server, device, 'POST', '/api/sessions', { agent: 'shell' });
  expect(response.status).toBe(201);
  const { session } = (await response.json()) as { session: { id: string; workspace: string } };
  return session;
}

interface WatchedSocket {
  socket: WebSocket;
  messages: { at: number; data: string }[];
  closed: Promise<{ code: number; reason: string; at: number }>;
}

function openSocket(server: Server, device: Device, path: string): Promise<WatchedSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, {
      headers: { Cookie: device.cookie, Origin: server.origin },
    });
    const messages: WatchedSocket['messages'] = [];
    socket.on('message', (data, isBinary) =>
      messages.push({ at: Date.now(), data: isBinary ? '(binary)' : data.toString() }),
    );
    const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
      socket.once('close', (code, reason) => done({ code, reason: reason.toString(), at: Date.now() })),
    );
    socket.once('open', () => resolve({ socket, messages, closed }));
    socket.once('error', reject);
  });
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The promise's value, or a failure saying what did not happen in time. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) =>
      setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms),
    ),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const input = (line: string) => JSON.stringify({ type: 'input', data: `${line}\r` });

/** B's sockets on one live shell, each shown to work before the login ends. */
async function openDeviceSockets(server: Server, b: Device, session: { id: string; workspace: string }) {
  const terminalPath = `/api/sessions/${session.id}/terminal`;
  const terminal = await openSocket(server, b, terminalPath);
  const events = await openSocket(server, b, '/api/events');
  const attacker: RawWebSocket = await openRawWebSocket(server.port, terminalPath, {
    Host: new URL(server.url).host,
    Origin: server.origin,
    Cookie: b.cookie,
  });
  expect(attacker.status).toBe(101);
  // Positive controls: each terminal socket reaches the shell while the login counts.
  terminal.socket.send(input('touch before-ws'));
  expect(attacker.sendText(input('touch before-raw'))).toBe(true);
  await waitFor(
    () =>
      existsSync(join(session.workspace, 'before-ws')) && existsSync(join(session.workspace, 'before-raw')),
    20_000,
    'the commands sent before the log out',
  );
  return { terminal, events, attacker };
}

/**
 * After the login ended: every socket closed 4401 within `boundMs` of `endedAt`, and nothing typed
 * afterwards ran. With `typeAtOnce`, the attacker types the moment the login ended (before any
 * close frame: the server must check the login on each message); otherwise only once told to go, so
 * that the close cannot have been triggered by the typing.
 */
async function expectCutOff(
  sockets: Awaited<ReturnType<typeof openDeviceSockets>>,
  options: { workspace: string; endedAt: number; boundMs: number; reason: string; typeAtOnce: boolean },
): Promise<void> {
  const { terminal, events, attacker } = sockets;
  if (options.typeAtOnce) {
    attacker.sendText(input('touch after-raw-1'));
    if (terminal.socket.readyState === WebSocket.OPEN) terminal.socket.send(input('touch after-ws'));
  }
  const wait = Math.max(options.endedAt - Date.now(), 0) + options.boundMs + SLACK_MS;
  const terminalClose = await within(terminal.closed, wait, "closing B's terminal socket");
  const eventsClose = await within(events.closed, wait, "closing B's events socket");
  await waitFor(
    () => attacker.frames.some((frame) => frame.opcode === 0x8),
    options.boundMs + SLACK_MS,
    'a close frame',
  );
  attacker.sendText(input('touch after-raw-2'));
  const closeFrame = attacker.frames.find((frame) => frame.opcode === 0x8);
  const closes = [terminalClose, eventsClose, { ...closeOf(closeFrame as never), at: closeFrame?.at ?? 0 }];
  for (const closed of closes) {
    expect(closed).toMatchObject({ code: 4401, reason: options.reason });
    expect(closed.at - options.endedAt).toBeLessThanOrEqual(options.boundMs + SLACK_MS);
  }
  // Nothing reaches B after its close frame, and an attacker that ignores it is cut off within 1 s.
  expect(events.messages.filter((message) => message.at > eventsClose.at)).toEqual([]);
  const tcpClosedAt = await attacker.tcpClosed;
  expect(tcpClosedAt - (closeFrame?.at ?? 0)).toBeLessThan(1000 + SLACK_MS);
  // Give a command that had slipped through ample time to create its file.
  await sleep(1000);
  for (const file of ['after-raw-1', 'after-raw-2', 'after-ws'])
    expect(existsSync(join(options.workspace, file)), file).toBe(false);
}

describe('warren serve: a login that ends closes its sockets', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const ways: { name: string; end(server: Server, a: Device, b: Device): Promise<Response> }[] = [
    {
      name: 'log out other devices (from A)',
      end: (server, a) => call(server, a, 'POST', '/api/logins/revoke-others'),
    },
    {
      name: 'DELETE /api/logins/:id (from A)',
      async end(server, a) {
        const list = await call(server, a, 'GET', '/api/logins');
        const { logins } = (await list.json()) as { logins: { id: string; userAgent: string }[] };
        const target = logins.find((login) => login.userAgent === 'device-b');
        return call(server, a, 'DELETE', `/api/logins/${target?.id ?? 'none'}`);
      },
    },
    {
      name: 'log out (B itself)',
      end: (server, _a, b) => call(server, b, 'POST', '/api/logout'),
    },
  ];

  for (const way of ways) {
    it(`${way.name}: B's sockets close at once and B's later keystrokes never run`, async () => {
      const harness = await startAppHarness(NO_SWEEP);
      cleanups.push(() => harness.close());
      const server = { url: harness.url, origin: harness.origin, port: Number(new URL(harness.url).port) };
      await setUpAndLogIn(harness, 'the right password');
      const a = await logIn(server, 'the right password', 'device-a');
      const b = await logIn(server, 'the right password', 'device-b');
      const session = await startShell(server, b);
      const sockets = await openDeviceSockets(server, b, session);
      const aEvents = await openSocket(server, a, '/api/events');

      const response = await way.end(server, a, b);
      expect(response.status).toBe(200);
      // In this process the sockets are closed before the answer is sent: the bound is ~0.
      await expectCutOff(sockets, {
        workspace: session.workspace,
        endedAt: Date.now(),
        boundMs: 0,
        reason: 'logged out',
        typeAtOnce: false,
      });
      // A's socket is not B's: it stays open and still hears events.
      expect(aEvents.socket.readyState).toBe(WebSocket.OPEN);
      if (way.name.startsWith('log out (B')) {
        await startShell(server, a);
        await waitFor(() => aEvents.messages.length > 0, 10_000, "A's event");
      }
      aEvents.socket.close();
    });
  }

  it("expiry: B's sockets close at its login's expiresAt, not at the next reconnect", async () => {
    const harness = await startAppHarness({ loginLifetimeMs: 4000, ...NO_SWEEP });
    cleanups.push(() => harness.close());
    const server = { url: harness.url, origin: harness.origin, port: Number(new URL(harness.url).port) };
    const a = await setUpAndLogIn(harness, 'the right password');
    const b = await logIn(server, 'the right password', 'device-b');
    const list = await call(server, b, 'GET', '/api/logins');
    const { logins } = (await list.json()) as { logins: { current: boolean; expiresAt: number }[] };
    const expiresAt = logins.find((login) => login.current)?.expiresAt as number;
    const session = await startShell(server, a);
    const sockets = await openDeviceSockets(server, b, session);
    expect(Date.now()).toBeLessThan(expiresAt);
    await waitFor(() => Date.now() >= expiresAt, 10_000, 'expiry');
    await expectCutOff(sockets, {
      workspace: session.workspace,
      endedAt: expiresAt,
      boundMs: 0,
      reason: 'login expired',
      typeAtOnce: false,
    });
    const closedAt = await sockets.events.closed;
    expect(closedAt.at).toBeGreaterThanOrEqual(expiresAt);
  });

  it(
    "`warren passwd` in another process: B's sockets close within the 500 ms sweep, and keystrokes sent before that never run",
    { timeout: 90_000 },
    async () => {
      const real = await startRealServer();
      cleanups.push(() => real.dispose());
      const url = real.url.replace(/\/$/, '');
      const server = { url, origin: url, port: Number(new URL(url).port) };
      const token = real.setupUrl?.split('/setup/')[1];
      const setup = await fetch(`${url}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: url },
        body: JSON.stringify({ token, password: 'the first password' }),
      });
      expect(setup.status).toBe(200);
      const b = await logIn(server, 'the first password', 'device-b');
      const session = await startShell(server, b);
      const sockets = await openDeviceSockets(server, b, session);
      // C sends nothing: only the periodic re-read of the store can notice that its login ended.
      const c = await logIn(server, 'the first password', 'device-c');
      const idle = await openSocket(server, c, '/api/events');

      const changed = await warren(['passwd'], {
        env: { WARREN_HOME: real.home },
        input: 'a brand new password\n',
      });
      const endedAt = Date.now();
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stdout).toContain('login(s) ended');
      await expectCutOff(sockets, {
        workspace: session.workspace,
        endedAt,
        boundMs: SWEEP_MS,
        reason: 'password changed',
        typeAtOnce: true,
      });
      const idleClose = await within(idle.closed, SWEEP_MS + SLACK_MS, "closing C's idle socket");
      expect(idleClose).toMatchObject({ code: 4401, reason: 'password changed' });
      expect(idleClose.at - endedAt).toBeLessThanOrEqual(SWEEP_MS + SLACK_MS);
    },
  );
});
