import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type FakeUpstream } from '../helpers/upstream.js';
import { freshDirectories, warren } from './warren-cli.js';
import { linesOf, until } from '../helpers/wait.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'warren.js');

/**
 * `kill -9` of `warren run` while its sandbox fetches in a loop: every response that completed at the
 * client has its flow in the store, and the session says it ended by a crash.
 */
describe('warren run killed mid-session', () => {
  let upstream: FakeUpstream;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startHttpUpstream((request, response) => response.end(`ok ${request.url}`));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    await upstream.close();
  });

  it(
    'loses no flow whose response completed at the client, over three kills; marks each session crashed and reclaims its folders',
    { timeout: 180_000 },
    async () => {
      const { home, workspace } = freshDirectories();
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', WARREN_HOME: home, WARREN_DEBUG: '1' };
      const sessionIds: string[] = [];
      let completedTotal = 0;
      for (const round of [1, 2, 3]) {
        const log = join(workspace, `completed-${round}.txt`);
        // A line is appended only after curl has the whole response (-f: and a 2xx status).
        const loop =
          `i=0; while true; do i=$((i+1)); ` +
          `curl -sSf --noproxy '' -o /dev/null http://localhost:${upstream.port}/r${round}/$i && ` +
          `echo /r${round}/$i >> /workspace/completed-${round}.txt; done`;
        const child = spawn(
          process.execPath,
          [bin, 'run', '--dir', workspace, '--allow', 'localhost', '--', 'sh', '-c', loop],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        cleanups.push(() => child.kill('SIGKILL'));
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        await until(() => linesOf(log).length >= 150 + round * 37, `round ${round}'s requests`, 60_000);
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('close', resolve));
        // The sandbox dies with its parent; a curl in flight fails on the closed proxy socket.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const id = /session (s-[0-9a-f]+)/.exec(stderr)?.[1];
        expect(id, stderr).toBeDefined();
        sessionIds.push(id as string);
        const completed = linesOf(log);
        completedTotal += completed.length;
        const listed = await warren(['flows', '--session', id as string, '--json', '--limit', '100000'], {
          env,
        });
        expect(listed.code, listed.stderr).toBe(0);
        const stored = new Set(
          listed.stdout
            .split('\n')
            .filter(Boolean)
            .map((text) => new URL((JSON.parse(text) as { url: string }).url).pathname),
        );
        const missing = completed.filter((path) => !stored.has(path));
        expect(missing).toEqual([]);
        // The upstream saw every completed request (and perhaps one more, cut off by the kill).
        const seen = upstream.seen
          .map((request) => request.url)
          .filter((url) => url?.startsWith(`/r${round}/`));
        expect(seen.length).toBeGreaterThanOrEqual(completed.length);
        expect(seen.length).toBeLessThanOrEqual(completed.length + 2);
      }
      expect(completedTotal).toBeGreaterThan(500);

      // What the killed sessions left: their sandbox state folders and proxy socket folders.
      const leftovers = (id: string) => [
        ...readdirSync(tmpdir())
          .filter((name) => name.startsWith(`warren-sandbox-${id}-`))
          .map((name) => join(tmpdir(), name)),
        ...(existsSync(join(home, 'run', id)) ? [join(home, 'run', id)] : []),
      ];
      // Each round's start reclaimed the rounds before it; the last round's are still there.
      expect(sessionIds.slice(0, -1).flatMap(leftovers)).toEqual([]);
      expect(leftovers(sessionIds.at(-1) as string)).toHaveLength(2);
      // Another instance's folder (another WARREN_HOME) and an unmarked one look alike by name: both stay.
      const foreign = mkdtempSync(join(tmpdir(), 'warren-sandbox-s-0123456789ab-'));
      writeFileSync(join(foreign, 'warren-owner'), '/some/other/warren/home\n');
      const unmarked = mkdtempSync(join(tmpdir(), 'warren-sandbox-s-ba9876543210-'));
      cleanups.push(() => rmSync(foreign, { recursive: true, force: true }));
      cleanups.push(() => rmSync(unmarked, { recursive: true, force: true }));

      // The next `warren run` finds the killed sessions and ends them as crashed, not as clean exits,
      // and reclaims what they left behind.
      const next = await warren(['run', '--dir', workspace, '--', 'true'], { env });
      expect(next.code, next.stderr).toBe(0);
      for (const id of sessionIds) expect(leftovers(id)).toEqual([]);
      expect(existsSync(join(foreign, 'warren-owner'))).toBe(true);
      expect(existsSync(unmarked)).toBe(true);
      for (const id of sessionIds) {
        const table = await warren(['flows', '--session', id], { env });
        expect(table.stdout).toMatch(
          new RegExp(`session ${id}: ended by a crash \\(Warren \\(pid \\d+\\) stopped`),
        );
      }
      const clean = /session (s-[0-9a-f]+)/.exec(next.stderr)?.[1] as string;
      const cleanTable = await warren(['flows', '--session', clean], { env });
      expect(cleanTable.stdout).not.toContain('crash');
    },
  );
});
