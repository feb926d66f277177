import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultSandboxLimits } from '../../src/sandbox/index.js';
import { runScript, sh, waitFor, type ContractKit } from './contract-kit.js';

const MiB = 1024 * 1024;

/**
 * Forks sleeps until fork fails, counting them in /workspace/started; dash gives up at the first failed fork, so
 * the last count is how many processes the limit let it start. Then it says so in /workspace/ended and holds the
 * sandbox (and every sleep) until its stdin closes, with builtins only: nothing is left to fork.
 */
export const FORK_BOMB = [
  `sh -c 'i=0; while :; do sleep 600 & i=$((i+1)); echo $i > /workspace/started; done' 2>/dev/null`,
  'echo ended > /workspace/ended',
  'read -r line || :',
].join('\n');

/** Warren's defaults on every session (src/sandbox/limits/defaults.ts), for tmpfs sizes, memory and processes. */
export function registerLimitTests(kit: ContractKit): void {
  const { contractTest } = kit;
  const defaults = defaultSandboxLimits(totalmem());

  contractTest('default limits: /tmp, HOME and /dev/shm are tmpfs of the default sizes', async () => {
    const result = await runScript(
      kit,
      'for folder in /tmp "$HOME" /dev/shm; do stat -f -c "%T $folder %b %S" "$folder"; done',
      { defaultLimits: defaults },
    );
    expect(result.stderr).toBe('');
    const sizes = result.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [type, folder, blocks, blockSize] = line.split(' ');
        return `${type} ${folder} ${Number(blocks) * Number(blockSize)}`;
      });
    expect(sizes).toEqual([
      `tmpfs /tmp ${defaults.tmpBytes}`,
      `tmpfs /home/agent ${defaults.homeBytes}`,
      `tmpfs /dev/shm ${defaults.shmBytes}`,
    ]);
  });

  contractTest('writing past the size of /tmp, HOME or /dev/shm fails with ENOSPC', async () => {
    const fill = (path: string) => `head -c ${12 * MiB} /dev/zero > ${path}; echo "$? $(wc -c < ${path})"`;
    const result = await runScript(
      kit,
      [fill('/tmp/fill'), fill('"$HOME/fill"'), fill('/dev/shm/fill')].join('; '),
      { limits: { tmpBytes: 8 * MiB, homeBytes: 8 * MiB, shmBytes: 8 * MiB } },
    );
    expect(result.stderr.match(/No space left on device/g)).toHaveLength(3);
    const outcomes = result.stdout.trim().split('\n');
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) {
      const [status, written] = outcome.split(' ').map(Number);
      expect(status).not.toBe(0);
      expect(written).toBeLessThanOrEqual(8 * MiB);
      expect(written).toBeGreaterThan(7 * MiB);
    }
  });

  contractTest(
    'default limits: memory is held by a cgroup or named as not enforced, never by RLIMIT_AS',
    async () => {
      const spec = kit.fixture().spec(sh('ulimit -v'), { defaultLimits: defaults });
      const plan = await kit.driver().plan(spec);
      await plan.cleanup();
      const enforced = plan.limits.find((entry) => entry.limit === 'memoryBytes');
      const unenforced = plan.unenforced?.find((entry) => entry.limit === 'memoryBytes');
      // Either, never both, never neither: the session record says what holds.
      expect(Boolean(enforced) !== Boolean(unenforced)).toBe(true);
      if (enforced) {
        expect(enforced.value).toBe(defaults.memoryBytes);
        expect(enforced.mechanism).toMatch(/cgroup/);
      } else expect(unenforced?.reason).toMatch(/cgroup|controller/);
      expect(plan.limits.map((entry) => entry.mechanism).join('\n')).not.toMatch(/RLIMIT_AS/);
      const result = await runScript(kit, 'ulimit -v', { defaultLimits: defaults });
      expect(result.stdout.trim()).toBe('unlimited');
    },
  );

  contractTest(
    'default limits: a fork bomb stops at the default pids limit, and the host keeps forking',
    async () => {
      const workspace = kit.fixture().workspace;
      const plan = await kit.driver().plan(kit.fixture().spec(sh(FORK_BOMB), { defaultLimits: defaults }));
      const unenforced = plan.unenforced?.find((entry) => entry.limit === 'pids');
      if (unenforced) {
        // The documented fallback (docs/sandbox.md, "Default limits"): the session starts and says why the default
        // does not hold. Running the bomb here would fork until the host's own limit.
        await plan.cleanup();
        expect(unenforced).toMatchObject({ value: defaults.pids, reason: expect.stringMatching(/\S/) });
        return;
      }
      expect(plan.limits.find((entry) => entry.limit === 'pids')?.value).toBe(defaults.pids);
      const child = spawn(plan.file, plan.args, {
        env: plan.env,
        cwd: plan.cwd ?? '/',
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const closed = new Promise((resolve) => child.on('close', resolve));
      try {
        await waitFor(() => existsSync(join(workspace, 'ended')), 'the fork bomb to hit the limit', 90_000);
        // The sandbox holds all it could start; the host still forks and runs.
        const host = spawnSync('/bin/sh', ['-c', 'echo alive'], { encoding: 'utf8', timeout: 10_000 });
        expect(host.stdout).toBe('alive\n');
        const started = Number(readFileSync(join(workspace, 'started'), 'utf8'));
        // The launcher, the bridge, the shells (and the engine's init) take a few of the limit's slots.
        expect(started).toBeLessThan(defaults.pids!);
        expect(started).toBeGreaterThan(defaults.pids! - 64);
      } finally {
        child.stdin?.end();
        await closed;
        await plan.cleanup();
      }
    },
    120_000,
  );
}
