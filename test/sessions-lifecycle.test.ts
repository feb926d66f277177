import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../src/server/runtime.js';
import { prepareSession, spawnWithPipes } from '../src/sessions/index.js';

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

    const spawned = spawnWithPipes(session.plan, 'pipe');
    let output = '';
    spawned.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = await spawned.exited;
    await session.finish(exit);

    expect(output).toMatch(/^wrn_/);
    // The token was live during the session; finish() revoked it, so there is nothing left to revoke.
    expect(runtime.gateway.revokeSessionToken(session.id)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect(runtime.store.sessions.get(session.id)).toMatchObject({ state: 'ended', exitCode: 0 });
    expect(runtime.isSessionLive(session.id)).toBe(false);
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
