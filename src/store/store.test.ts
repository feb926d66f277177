import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../proxy/index.js';
import { openStore } from './index.js';

function flow(id: string, sessionId: string, overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id,
    sessionId,
    startedAt: 1_700_000_000_000,
    durationMs: 12,
    timings: { blocked: -1, dns: 1, connect: 2, ssl: -1, send: 0, wait: 5, receive: 4 },
    method: 'GET',
    url: `http://api.test/${id}`,
    scheme: 'http',
    host: 'api.test',
    port: 80,
    httpVersion: 'HTTP/1.1',
    request: { headers: [['host', 'api.test']], body: { size: 0, data: Buffer.alloc(0), truncated: false } },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [['content-type', 'text/plain']],
      body: { size: 10, data: Buffer.from('hello'), truncated: true },
    },
    tls: { mode: 'none' },
    policy: { decision: 'allow', rule: '--allow api.test', reason: 'allowed by --allow api.test' },
    ...overrides,
  };
}

describe('store', () => {
  it('creates the database file with mode 0600 and migrates idempotently', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warren-store-')), 'warren.db');
    openStore(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = openStore(path);
    expect(again.sessions.list()).toEqual([]);
    again.close();
  });

  it('keeps a session through its lifecycle', () => {
    const store = openStore(':memory:');
    store.sessions.create({
      id: 's-1',
      createdAt: 1,
      kind: 'run',
      command: ['bash', '-c', 'true'],
      workspace: '/w',
      driver: 'bwrap',
      details: {},
    });
    expect(store.sessions.get('s-1')?.state).toBe('starting');
    store.sessions.update('s-1', { state: 'ended', endedAt: 5, exitCode: 3 });
    expect(store.sessions.get('s-1')).toMatchObject({
      state: 'ended',
      endedAt: 5,
      exitCode: 3,
      command: ['bash', '-c', 'true'],
    });
    store.sessions.create({
      id: 's-2',
      createdAt: 2,
      kind: 'run',
      command: [],
      workspace: '/w',
      driver: 'bwrap',
      details: {},
    });
    expect(store.sessions.endAllRunning(9)).toBe(1);
    expect(store.sessions.get('s-2')).toMatchObject({ state: 'ended', endedAt: 9 });
    store.close();
  });

  it('at start-up ends orphaned sessions but not those whose owner process still runs', () => {
    const store = openStore(':memory:');
    const base = { kind: 'run', command: [], workspace: '/w', driver: 'bwrap' };
    store.sessions.create({ ...base, id: 'live', createdAt: 1, state: 'running', details: { ownerPid: 41 } });
    store.sessions.create({ ...base, id: 'dead', createdAt: 2, state: 'running', details: { ownerPid: 42 } });
    store.sessions.create({ ...base, id: 'old', createdAt: 3, state: 'running', details: {} });
    expect(store.sessions.endAllRunning(10, (pid) => pid === 41)).toBe(2);
    expect(store.sessions.get('live')?.state).toBe('running');
    expect(store.sessions.get('dead')?.state).toBe('ended');
    expect(store.sessions.get('old')?.state).toBe('ended');
    store.close();
  });

  it('records flows in batches, with bodies only when asked, filtered and paged', () => {
    const store = openStore(':memory:');
    store.flows.record(flow('a', 's-1'));
    store.flows.record(flow('b', 's-1', { method: 'POST', host: 'other.test' }));
    store.flows.record(
      flow('c', 's-2', { policy: { decision: 'deny', reason: 'no rule allows it' }, response: undefined }),
    );
    const all = store.flows.query();
    expect(all.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(all[0]!.response!.body.data.length).toBe(0);
    const withBodies = store.flows.query({ sessionId: 's-1', withBodies: true });
    expect(withBodies[0]!.response!.body).toMatchObject({ size: 10, truncated: true });
    expect(withBodies[0]!.response!.body.data.toString()).toBe('hello');
    expect(store.flows.query({ host: 'other.test' }).map((item) => item.id)).toEqual(['b']);
    expect(store.flows.query({ method: 'post' }).map((item) => item.id)).toEqual(['b']);
    expect(store.flows.query({ decision: 'deny' }).map((item) => item.id)).toEqual(['c']);
    expect(store.flows.query({ after: all[0]!.seq, limit: 1 }).map((item) => item.id)).toEqual(['b']);
    expect(store.flows.count('s-1')).toBe(2);
    expect(store.flows.get('c')?.response).toBeUndefined();
    store.close();
  });

  it('ignores a duplicate flow id instead of failing the batch', () => {
    const store = openStore(':memory:');
    store.flows.record(flow('a', 's-1'));
    store.flows.record(flow('a', 's-1'));
    store.flows.record(flow('b', 's-1'));
    expect(store.flows.query().map((item) => item.id)).toEqual(['a', 'b']);
    store.close();
  });
});
