import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostPolicy } from '../proxy/index.js';
import { openStore, type Store } from '../store/index.js';
import { newSessionId, type SessionOptions } from './lifecycle.js';
import { createSessionManager, type SessionEvent } from './manager.js';

/** Sessions without a sandbox (a plain shell in a PTY): the manager's own logic is under test here. */
function unsandboxedManager(
  store: Store,
  folder: string,
  events: SessionEvent[],
  options: { keepEnded?: number; failFinish?: boolean } = {},
) {
  const errors: unknown[] = [];
  const manager = createSessionManager({
    store,
    sessionsDir: folder,
    onEvent: (event) => events.push(event),
    onError: (_id, error) => errors.push(error),
    ...(options.keepEnded !== undefined ? { keepEnded: options.keepEnded } : {}),
    async prepare(sessionOptions: SessionOptions) {
      const id = sessionOptions.id ?? newSessionId();
      store.sessions.create({
        id,
        createdAt: Date.now(),
        kind: sessionOptions.kind,
        command: sessionOptions.command,
        workspace: sessionOptions.workspace,
        driver: 'none (test)',
        details: {},
        state: 'running',
      });
      return {
        id,
        plan: {
          file: sessionOptions.command[0] as string,
          args: sessionOptions.command.slice(1),
          env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' },
          limits: [],
          cleanup: async () => {},
        },
        setPolicy() {},
        async finish(exit) {
          if (options.failFinish) throw new Error('cleanup failed');
          store.sessions.update(id, {
            state: 'ended',
            endedAt: Date.now(),
            ...('error' in exit ? {} : { exitCode: exit.code ?? -1 }),
          });
        },
      };
    },
  });
  return { manager, errors };
}

const policy = { rules: [], explain: () => [] } as unknown as HostPolicy;
const request = (command: string) => ({
  agent: 'custom',
  command: ['/bin/sh', '-c', command],
  env: {},
  policy,
  workspace: { kind: 'empty' as const },
  cols: 80,
  rows: 24,
});

describe('session manager', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function setUp(options: { keepEnded?: number; failFinish?: boolean } = {}) {
    const folder = mkdtempSync(join(tmpdir(), 'warren-manager-'));
    const store = openStore(':memory:');
    const events: SessionEvent[] = [];
    const { manager, errors } = unsandboxedManager(store, folder, events, options);
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    cleanups.push(() => manager.closeAll());
    return { folder, store, events, manager, errors };
  }

  it('records the exit, the terminal as asciicast, and announces start and end', async () => {
    const { store, events, manager } = setUp();
    const row = await manager.create(request('echo recorded-output; exit 3'));
    await manager.live(row.id)?.finished;
    expect(store.sessions.get(row.id)).toMatchObject({ state: 'ended', exitCode: 3 });
    expect(events.map((event) => event.type)).toEqual(['session-started', 'session-ended']);
    expect(readFileSync(manager.files(row.id).recording, 'utf8')).toContain('recorded-output');
  });

  it('keeps the final screen of the newest ended sessions only', async () => {
    const { manager } = setUp({ keepEnded: 2 });
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const row = await manager.create(request(`echo session-${index}`));
      await manager.live(row.id)?.finished;
      ids.push(row.id);
    }
    expect(ids.map((id) => manager.live(id) !== undefined)).toEqual([false, true, true]);
  });

  it('still marks the session ended when cleaning up fails, and reports the failure', async () => {
    const { events, manager, errors } = setUp({ failFinish: true });
    const row = await manager.create(request('true'));
    await manager.live(row.id)?.finished;
    expect(manager.live(row.id)?.running).toBe(false);
    expect(errors).toEqual([new Error('cleanup failed')]);
    expect(events.at(-1)?.type).toBe('session-ended');
  });

  it('stops a running session and removes it with its folder', async () => {
    const { store, manager } = setUp();
    const row = await manager.create(request('sleep 30'));
    await manager.stop(row.id);
    expect(store.sessions.get(row.id)?.state).toBe('ended');
    await manager.remove(row.id);
    expect(store.sessions.get(row.id)).toBeUndefined();
    await expect(manager.remove(row.id)).rejects.toThrow(`no session ${row.id}`);
  });
});
