import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type FakeUpstream } from '../helpers/upstream.js';
import { freshDirectories, warren } from './warren-cli.js';
import { fillFilesystem, linesOf, until } from '../helpers/wait.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'warren.js');

/**
 * WARREN_HOME on a 24 MiB tmpfs that fills up while a sandbox fetches 64 KiB bodies in a loop: Warren
 * keeps serving, says the store refuses flows, keeps them, and writes them once space returns.
 */
describe('warren run with WARREN_HOME on a full disk', () => {
  let upstream: FakeUpstream;
  let mountPoint: string;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startHttpUpstream((_request, response) => response.end(Buffer.alloc(64 * 1024, 'x')));
    mountPoint = mkdtempSync(join(tmpdir(), 'warren-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    await upstream.close();
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it(
    'keeps serving, says so on stderr and in warren flows, and stores every flow once space returns',
    { timeout: 120_000 },
    async () => {
      const { workspace } = freshDirectories();
      cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
      const home = join(mountPoint, 'home');
      const filler = join(mountPoint, 'filler');
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', WARREN_HOME: home, WARREN_DEBUG: '1' };
      const completed = join(workspace, 'completed.txt');
      // Fetches until /workspace/stop appears; a line per response that arrived whole.
      const loop =
        `i=0; while [ ! -e /workspace/stop ]; do i=$((i+1)); ` +
        `curl -sSf --noproxy '' -o /dev/null http://localhost:${upstream.port}/f/$i && echo /f/$i >> /workspace/completed.txt; done`;
      const child = spawn(
        process.execPath,
        [bin, 'run', '--dir', workspace, '--allow', 'localhost', '--', 'sh', '-c', loop],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      cleanups.push(() => child.kill('SIGKILL'));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));

      await until(() => linesOf(completed).length >= 20, 'the first requests');
      fillFilesystem(filler);
      await until(() => stderr.includes('the store refuses flows'), 'the refusal on stderr');
      expect(stderr).toMatch(
        /refuses flows \(SQLITE_FULL: [^)]*\); \d+ held in memory \(\d+ KiB of at most 64 MiB\)/,
      );
      // Still serving: more responses arrive whole while nothing can be written.
      const atRefusal = linesOf(completed).length;
      await until(() => linesOf(completed).length >= atRefusal + 30, 'requests while the disk is full');
      expect(child.exitCode).toBeNull();

      const whileFull = await warren(['flows', '--limit', '1'], { env });
      expect(whileFull.stderr).toMatch(
        /has \d+ KiB free: a running Warren keeps the flows it cannot write in memory/,
      );

      rmSync(filler);
      await until(() => stderr.includes('the store takes flows again'), 'the recovery on stderr', 10_000);
      writeFileSync(join(workspace, 'stop'), '');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/Error:|at .*\.js:\d+/);

      const id = /session (s-[0-9a-f]+)/.exec(stderr)?.[1] as string;
      const listed = await warren(['flows', '--session', id, '--json', '--limit', '100000'], { env });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stderr).not.toContain('KiB free');
      const stored = new Set(
        listed.stdout
          .split('\n')
          .filter(Boolean)
          .map((text) => new URL((JSON.parse(text) as { url: string }).url).pathname),
      );
      const done = linesOf(completed);
      expect(done.length).toBeGreaterThan(50);
      expect(done.filter((path) => !stored.has(path))).toEqual([]);
    },
  );
});
