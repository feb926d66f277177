import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/proxy/index.js';
import { openStore } from '../../src/store/index.js';
import { freshDirectories, warren } from './warren-cli.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'warren.js');

function flow(index: number): FlowRecord {
  return {
    id: `00000000-0000-7000-8000-${String(index).padStart(12, '0')}`,
    sessionId: 's-0000000000aa',
    startedAt: 1_700_000_000_000 + index,
    durationMs: 1,
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    method: 'GET',
    url: `http://api.test/item/${index}`,
    scheme: 'http',
    host: 'api.test',
    port: 80,
    httpVersion: 'HTTP/1.1',
    request: { headers: [], body: { size: 0, data: Buffer.alloc(0), truncated: false } },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [],
      body: { size: 2, data: Buffer.from('ok'), truncated: false },
    },
    tls: { mode: 'none' },
    policy: { decision: 'allow', reason: 'allowed' },
  };
}

/** `warren flows` over 2,000 recorded flows: it says when --limit cut the list, and a closed pipe is no error. */
describe('warren flows', () => {
  const { home, workspace } = freshDirectories();
  const env = { WARREN_HOME: home };

  beforeAll(() => {
    const store = openStore(join(home, 'warren.db'));
    for (let index = 1; index <= 2000; index += 1) store.flows.record(flow(index));
    store.close();
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(workspace, { recursive: true, force: true });
  });

  it('says on stderr when it stopped at --limit, and says nothing when everything fit', async () => {
    const cut = await warren(['flows'], { env });
    expect(cut.code).toBe(0);
    expect(cut.stdout.trim().split('\n')).toHaveLength(1000);
    expect(cut.stderr).toContain('warren flows: stopped at --limit 1000; more flows match');
    const json = await warren(['flows', '--json', '--limit', '1500'], { env });
    expect(json.stdout.trim().split('\n')).toHaveLength(1500);
    expect(json.stderr).toContain('stopped at --limit 1500');
    const all = await warren(['flows', '--limit', '2000'], { env });
    expect(all.stdout.trim().split('\n')).toHaveLength(2000);
    expect(all.stderr).toBe('');
  });

  it('ends quietly, with status 0, when its reader closes the pipe (warren flows | head)', () => {
    for (const format of ['', '--json', '--har']) {
      const output = execFileSync(
        'bash',
        [
          '-c',
          `"${process.execPath}" "${bin}" flows ${format} --limit 2000 2>"$ERRORS" | head -n 2 >/dev/null; echo "\${PIPESTATUS[0]}"; cat "$ERRORS"`,
        ],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            WARREN_HOME: home,
            ERRORS: join(workspace, 'errors'),
          },
        },
      ).toString();
      expect(output, format).toBe('0\n');
    }
  });
});
