import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createOciDriver, defaultSandboxLimits, runSandboxed } from '../src/sandbox/index.js';
import { testImageForSuite } from './helpers/rootfs.js';
import { useDriverSuite } from './sandbox/fixtures.js';

const image = await testImageForSuite();

/**
 * What the engine's limit flags do on this host's cgroups (v1, v2 or hybrid), read from inside the container.
 * The contract suite already shows the memory and pids limits stopping real workloads.
 */
describe('podman limits on this host', () => {
  const sandbox = useDriverSuite(() => createOciDriver({ image }));

  it('sets the memory, swap and pids limits in the container cgroup', async (context) => {
    sandbox.require(context);
    const script = [
      'if [ -f /sys/fs/cgroup/memory.max ]; then',
      '  echo "memory $(cat /sys/fs/cgroup/memory.max)"; echo "pids $(cat /sys/fs/cgroup/pids.max)"',
      'else',
      '  echo "memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo "pids $(cat /sys/fs/cgroup/pids/pids.max)"',
      'fi',
    ].join('\n');
    const result = await runSandboxed(
      createOciDriver({ image }),
      sandbox.fixture.spec(['/bin/sh', '-c', script], {
        limits: { memoryBytes: 96 * 1024 * 1024, pids: 48 },
      }),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`memory ${96 * 1024 * 1024}\npids 48\n`);
  });

  it('sets the default memory and pids limits in the container cgroup, or names the ones it cannot', async (context) => {
    sandbox.require(context);
    const defaults = defaultSandboxLimits(totalmem());
    const script = [
      'if [ -f /sys/fs/cgroup/memory.max ]; then',
      '  echo "memory $(cat /sys/fs/cgroup/memory.max)"; echo "pids $(cat /sys/fs/cgroup/pids.max)"',
      'else',
      '  echo "memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo "pids $(cat /sys/fs/cgroup/pids/pids.max)"',
      'fi',
    ].join('\n');
    const driver = createOciDriver({ image });
    const spec = sandbox.fixture.spec(['/bin/sh', '-c', script], { defaultLimits: defaults });
    const plan = await driver.plan(spec);
    await plan.cleanup();
    const unenforced = new Set(plan.unenforced?.map((entry) => entry.limit));
    const result = await runSandboxed(driver, spec);
    expect(result.stderr).toBe('');
    // Rootless podman without delegated controllers: the default is named as not enforced, the session still runs.
    const read = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ')),
    );
    for (const [limit, file] of [
      ['memoryBytes', 'memory'],
      ['pids', 'pids'],
    ] as const) {
      if (unenforced.has(limit)) expect(read[file]).not.toBe(String(defaults[limit]));
      else expect(read[file]).toBe(String(defaults[limit]));
    }
    expect(unenforced.size === 0 || process.getuid?.() !== 0).toBe(true);
  });

  it('a CPU share of 0.25 holds a busy loop to about a quarter core', async (context) => {
    sandbox.require(context);
    // CPU time of the container cgroup (ns on v1 cpuacct, µs on v2 cpu.stat) across 2 s of a busy loop.
    const script = [
      'usage() { if [ -f /sys/fs/cgroup/cpu.stat ]; then echo $(( $(grep usage_usec /sys/fs/cgroup/cpu.stat | cut -d" " -f2) * 1000 )); else cat /sys/fs/cgroup/cpuacct/cpuacct.usage; fi; }',
      'start=$(usage)',
      'sh -c "while :; do :; done" & loop=$!',
      'sleep 2; kill $loop',
      'echo $(( ($(usage) - start) / 1000000 ))',
    ].join('\n');
    const result = await runSandboxed(
      createOciDriver({ image }),
      sandbox.fixture.spec(['/bin/sh', '-c', script], { limits: { cpus: 0.25 } }),
    );
    expect(result.stderr).toBe('');
    const cpuMilliseconds = Number(result.stdout.trim());
    // 0.25 × 2000 ms = 500 ms; unlimited it would be close to 2000 ms.
    expect(cpuMilliseconds).toBeGreaterThan(200);
    expect(cpuMilliseconds).toBeLessThan(900);
  });
});
