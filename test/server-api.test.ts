import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { FlowRecord } from '../src/proxy/index.js';
import { setUpAndLogIn, startAppHarness, type AppHarness } from './e2e/app-harness.js';

interface Client {
  get(path: string): Promise<Response>;
  send(method: string, path: string, body?: unknown): Promise<Response>;
  socket(path: string): WebSocket;
}

function clientOf(harness: AppHarness, login: { cookie: string; csrf: string }): Client {
  return {
    get: (path) => fetch(`${harness.url}${path}`, { headers: { Cookie: login.cookie } }),
    send: (method, path, body) =>
      fetch(`${harness.url}${path}`, {
        method,
        headers: {
          Cookie: login.cookie,
          Origin: harness.origin,
          'X-CSRF-Token': login.csrf,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    socket: (path) =>
      new WebSocket(`${harness.url.replace('http', 'ws')}${path}`, {
        headers: { Cookie: login.cookie, Origin: harness.origin },
      }),
  };
}

/** A terminal socket client that collects output and control messages, and acknowledges output. */
function terminalClient(socket: WebSocket) {
  const state = { output: '', controls: [] as { type: string; data?: string }[] };
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      const bytes = data as Buffer;
      state.output += bytes.toString('utf8');
      socket.send(JSON.stringify({ type: 'ack', bytes: bytes.length }));
    } else state.controls.push(JSON.parse(data.toString()) as { type: string; data?: string });
  });
  return state;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function flowRecord(sessionId: string, overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: randomUUID(),
    sessionId,
    startedAt: Date.now(),
    durationMs: 12,
    timings: { blocked: -1, dns: -1, connect: 1, ssl: -1, send: 1, wait: 5, receive: 1 },
    method: 'GET',
    url: 'http://127.0.0.1:9/page',
    scheme: 'http',
    host: '127.0.0.1',
    port: 9,
    httpVersion: 'HTTP/1.1',
    request: {
      headers: [['host', '127.0.0.1:9']],
      body: { size: 0, data: Buffer.alloc(0), truncated: false },
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [['content-type', 'text/html']],
      body: { size: 29, data: Buffer.from('<script>alert(1)</script>hi!'), truncated: false },
    },
    tls: { mode: 'none' },
    policy: { decision: 'allow', rule: '127.0.0.1:9', reason: 'allowed by 127.0.0.1:9' },
    ...overrides,
  };
}

describe('warren serve: JSON API and terminal sockets', () => {
  let harness: AppHarness;
  let client: Client;
  beforeEach(async () => {
    harness = await startAppHarness();
    client = clientOf(harness, await setUpAndLogIn(harness));
  });
  afterEach(async () => {
    await harness.close();
  });

  it('creates, lists, gets, stops and deletes a session; errors are JSON with a code', async () => {
    const created = await client.send('POST', '/api/sessions', { agent: 'custom', command: 'sleep 30' });
    expect(created.status).toBe(201);
    const { session } = (await created.json()) as { session: { id: string; state: string; agent: string } };
    expect(session).toMatchObject({ state: 'running', agent: 'custom' });
    const list = (await (await client.get('/api/sessions')).json()) as { sessions: { id: string }[] };
    expect(list.sessions.map((entry) => entry.id)).toContain(session.id);
    const stopped = (await (await client.send('POST', `/api/sessions/${session.id}/stop`)).json()) as {
      session: { state: string };
    };
    expect(stopped.session.state).toBe('ended');
    expect((await client.send('POST', `/api/sessions/${session.id}/stop`)).status).toBe(409);
    expect((await client.send('DELETE', `/api/sessions/${session.id}`)).status).toBe(200);
    const missing = await client.get(`/api/sessions/${session.id}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'not-found', message: `no session ${session.id}` },
    });
    const invalid = await client.send('POST', '/api/sessions', {
      agent: 'custom',
      command: 'true',
      bogus: 1,
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('invalid-argument');
    const unknownAgent = await client.send('POST', '/api/sessions', { agent: 'nope' });
    expect(((await unknownAgent.json()) as { error: { hint: string } }).error.hint).toContain('shell');
  });

  it('streams a terminal: input, output, and the same screen after a reconnect', async () => {
    const created = await client.send('POST', '/api/sessions', { agent: 'shell', cols: 80, rows: 24 });
    const { session } = (await created.json()) as { session: { id: string } };
    const first = client.socket(`/api/sessions/${session.id}/terminal`);
    const firstState = terminalClient(first);
    await new Promise((resolve) => first.once('open', resolve));
    first.send(JSON.stringify({ type: 'input', data: 'echo "marker-$((6*7))"\r' }));
    await until(() => firstState.output.includes('marker-42'), 'the command output');
    first.close();
    const second = client.socket(`/api/sessions/${session.id}/terminal`);
    const secondState = terminalClient(second);
    await until(
      () => secondState.controls.some((message) => message.type === 'terminal-snapshot'),
      'a snapshot',
    );
    const snapshot = secondState.controls.find((message) => message.type === 'terminal-snapshot');
    expect(snapshot?.data).toContain('marker-42');
    second.send(JSON.stringify({ type: 'input', data: 'exit\r' }));
    await until(() => secondState.controls.some((message) => message.type === 'terminal-exited'), 'the exit');
    second.close();
    const recording = await client.get(`/api/sessions/${session.id}/recording`);
    expect(recording.headers.get('content-disposition')).toContain('attachment');
    const lines = (await recording.text()).trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(
      lines
        .slice(1)
        .map((line) => (JSON.parse(line) as [number, string, string])[2])
        .join(''),
    ).toContain('marker-42');
  });

  it('refuses a terminal socket for an unknown session', async () => {
    const socket = client.socket('/api/sessions/s-000000000000/terminal');
    const status = await new Promise<number>((resolve) =>
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it('pages and filters flows, returns bodies as text, and pushes live events', async () => {
    const created = await client.send('POST', '/api/sessions', { agent: 'custom', command: 'sleep 30' });
    const { session } = (await created.json()) as { session: { id: string } };
    const events = client.socket('/api/events');
    const received: { type: string; sessionId?: string; flow?: { host: string } }[] = [];
    events.on('message', (data) => received.push(JSON.parse(data.toString()) as (typeof received)[number]));
    await new Promise((resolve) => events.once('open', resolve));
    const allowed = flowRecord(session.id);
    const refused = flowRecord(session.id, {
      host: '127.0.0.2',
      url: 'http://127.0.0.2:9/',
      policy: { decision: 'deny', reason: 'loopback addresses are refused unless a rule names them' },
      response: undefined,
    });
    for (const flow of [allowed, refused]) {
      harness.store.flows.record(flow);
      harness.events.publish({
        type: 'flow-recorded',
        sessionId: session.id,
        flow: { ...flow, status: null } as never,
      });
    }
    await until(
      () => received.filter((event) => event.type === 'flow-recorded').length === 2,
      'two flow events',
    );
    const all = (await (await client.get(`/api/sessions/${session.id}/flows`)).json()) as {
      flows: { id: string; decision: string }[];
    };
    expect(all.flows.map((flow) => flow.decision)).toEqual(['allow', 'deny']);
    const denied = (await (await client.get(`/api/sessions/${session.id}/flows?decision=deny`)).json()) as {
      flows: { id: string }[];
    };
    expect(denied.flows.map((flow) => flow.id)).toEqual([refused.id]);
    const byHost = (await (
      await client.get(`/api/sessions/${session.id}/flows?host=127.0.0.1&limit=1`)
    ).json()) as { flows: unknown[]; next: number };
    expect(byHost.flows).toHaveLength(1);
    expect(byHost.next).toBeGreaterThan(0);
    const detail = (await (await client.get(`/api/sessions/${session.id}/flows/${allowed.id}`)).json()) as {
      flow: { response: { body: { encoding: string; data: string } } };
    };
    expect(detail.flow.response.body).toMatchObject({
      encoding: 'utf8',
      data: '<script>alert(1)</script>hi!',
    });
    const policy = (await (await client.get(`/api/sessions/${session.id}/policy`)).json()) as {
      refused: { host: string; count: number }[];
      canUpdateLive: boolean;
    };
    expect(policy.refused).toEqual([expect.objectContaining({ host: '127.0.0.2', count: 1 })]);
    const har = await client.get(`/api/sessions/${session.id}/har`);
    expect(har.headers.get('content-disposition')).toContain(`${session.id}.har`);
    expect(((await har.json()) as { log: { entries: unknown[] } }).log.entries).toHaveLength(2);
    expect((await client.get(`/api/sessions/${session.id}/flows?status=abc`)).status).toBe(400);
    await client.send('POST', `/api/sessions/${session.id}/stop`);
    await until(() => received.some((event) => event.type === 'session-ended'), 'the session-ended event');
    events.close();
  });

  it("copies a workspace folder and refuses Warren's own folders", async () => {
    const refused = await client.send('POST', '/api/sessions', {
      agent: 'custom',
      command: 'true',
      workspace: { kind: 'in-place', path: harness.folder },
    });
    expect(refused.status).toBe(403);
    const missing = await client.send('POST', '/api/sessions', {
      agent: 'custom',
      command: 'true',
      workspace: { kind: 'copy', path: '/nonexistent/folder' },
    });
    expect(missing.status).toBe(400);
  });
  it('clones a local git repository into the session folder, and uses a folder in place only when asked', async () => {
    const repository = mkdtempSync(join(tmpdir(), 'warren-repo-'));
    try {
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', repository, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
          stdio: 'pipe',
        });
      git('init', '--quiet');
      writeFileSync(join(repository, 'README'), 'from the repository\n');
      git('add', 'README');
      git('commit', '--quiet', '-m', 'first');
      const cloned = await client.send('POST', '/api/sessions', {
        agent: 'custom',
        command: 'true',
        workspace: { kind: 'clone', url: repository },
      });
      expect(cloned.status).toBe(201);
      const { session } = (await cloned.json()) as { session: { id: string; workspace: string } };
      expect(session.workspace).toBe(join(harness.folder, session.id, 'workspace'));
      expect(readFileSync(join(session.workspace, 'README'), 'utf8')).toBe('from the repository\n');
      const inPlace = await client.send('POST', '/api/sessions', {
        agent: 'custom',
        command: 'echo touched > marker',
        workspace: { kind: 'in-place', path: repository },
      });
      const placed = ((await inPlace.json()) as { session: { id: string; workspace: string } }).session;
      expect(placed.workspace).toBe(repository);
      await harness.sessions.live(placed.id)?.finished;
      expect(existsSync(join(repository, 'marker'))).toBe(true);
      // Deleting an in-place session leaves the folder alone.
      expect((await client.send('DELETE', `/api/sessions/${placed.id}`)).status).toBe(200);
      expect(existsSync(join(repository, 'README'))).toBe(true);
      const badUrl = await client.send('POST', '/api/sessions', {
        agent: 'custom',
        command: 'true',
        workspace: { kind: 'clone', url: 'ext::sh -c touch% /tmp/pwned' },
      });
      expect(badUrl.status).toBe(400);
    } finally {
      rmSync(repository, { recursive: true, force: true });
    }
  });
});
