import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../src/server/runtime.js';
import { createBwrapDriver, defaultSandboxLimits } from '../src/sandbox/index.js';
import { prepareSession, spawnWithPipes, unenforcedNotice } from '../src/sessions/index.js';

/** One session's lifecycle with the real runtime: store row, proxy socket, gateway token, bwrap. */
describe('session lifecycle', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('issues a gateway token for the session and revokes it, with the proxy socket, when it ends', async () => {
    runtime = await openRuntime({ env: { WARREN_HOME: mkdtempSync(join(tmpdir(), 'warren-life-')) } });
    const driver = await runtime.openDriver('bwrap');
    const session = await prepareSession(runtime.sessionParts(driver), {
      kind: 'test',
      command: ['sh', '-c', 'printf %s "$ANTHROPIC_API_KEY"'],
      workspace: mkdtempSync(join(tmpdir(), 'warren-life-ws-')),
      policy: runtime.policyWith({}),
      tty: false,
    });
    const socket = join(runtime.home.runDir, session.id, 'proxy.sock');
    expect(existsSync(socket)).toBe(true);
    expect(runtime.store.sessions.get(session.id)?.state).toBe('running');
    expect(runtime.isSessionLive(session.id)).toBe(true);

    let output = '';
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const spawned = spawnWithPipes(session.plan, {
      stdin: Readable.from([]),
      stdout: collect,
      stderr: new PassThrough(),
    });
    const exit = await spawned.exited;
    await session.finish(exit);

    expect(output).toMatch(/^wrn_/);
    // The token was live during the session; finish() revoked it, so there is nothing left to revoke.
    expect(runtime.gateway.revokeSessionToken(session.id)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect(runtime.store.sessions.get(session.id)).toMatchObject({ state: 'ended', exitCode: 0 });
    expect(runtime.isSessionLive(session.id)).toBe(false);
  });

  it('records how each limit holds, and the defaults this host could not enforce, with the session', async () => {
    runtime = await openRuntime({ env: { WARREN_HOME: mkdtempSync(join(tmpdir(), 'warren-life-')) } });
    // No cgroup to write: the default memory limit cannot hold; pids falls back to RLIMIT_NPROC.
    const driver = createBwrapDriver({ cgroupLocation: { v1: {}, v2: undefined } });
    const session = await prepareSession(runtime.sessionParts(driver), {
      kind: 'test',
      command: ['true'],
      workspace: mkdtempSync(join(tmpdir(), 'warren-life-ws-')),
      policy: runtime.policyWith({}),
      limits: { tmpBytes: 64 * 1024 * 1024 },
      tty: false,
    });
    await session.finish({ code: 0, signal: null });
    const details = runtime.store.sessions.get(session.id)?.details as {
      limits: { limit: string; value: number; mechanism: string }[];
      unenforcedLimits: { limit: string; reason: string }[];
    };
    const defaults = defaultSandboxLimits(totalmem());
    expect(details.unenforcedLimits).toEqual([
      expect.objectContaining({
        limit: 'memoryBytes',
        value: defaults.memoryBytes,
        reason: 'no writable memory cgroup',
      }),
    ]);
    expect(Object.fromEntries(details.limits.map((entry) => [entry.limit, entry.value]))).toEqual({
      pids: defaults.pids,
      tmpBytes: 64 * 1024 * 1024,
      homeBytes: defaults.homeBytes,
      shmBytes: defaults.shmBytes,
    });
    expect(unenforcedNotice(session.plan.unenforced ?? [])).toMatch(
      /^warren: default limits not enforced on this host: memory [\d.]+ GiB \(no writable memory cgroup\); see/,
    );
  });

  it('fails closed: a session whose sandbox cannot be planned leaves no socket, token or running row', async () => {
    runtime = await openRuntime({ env: { WARREN_HOME: mkdtempSync(join(tmpdir(), 'warren-life-')) } });
    const driver = await runtime.openDriver('bwrap');
    await expect(
      prepareSession(runtime.sessionParts(driver), {
        kind: 'test',
        command: ['true'],
        workspace: join(tmpdir(), 'warren-no-such-workspace'),
        policy: runtime.policyWith({}),
        tty: false,
      }),
    ).rejects.toThrow();
    const [row] = runtime.store.sessions.list();
    expect(row?.state).toBe('failed');
    expect(existsSync(join(runtime.home.runDir, row!.id))).toBe(false);
    expect(runtime.gateway.revokeSessionToken(row!.id)).toBe(false);
  });
});
