import { execFileSync, spawn } from 'node:child_process';
import pty from '@lydell/node-pty';
import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../src/errors/index.js';
import { createBwrapDriver, createOciDriver, runSandboxed } from '../src/sandbox/index.js';
import { testImageForSuite } from './helpers/rootfs.js';
import { uniqueMarker, useDriverSuite } from './sandbox/fixtures.js';

const image = await testImageForSuite({ withNode: true });

function containersOf(instance: string): string[] {
  return execFileSync('podman', ['ps', '--all', '--quiet', '--filter', `label=warren.instance=${instance}`])
    .toString()
    .split('\n')
    .filter(Boolean);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Behaviour of the podman driver beyond the shared contract: cleanup, leftovers, TTY, refusals. */
describe('podman driver', () => {
  const sandbox = useDriverSuite(() => createOciDriver({ image }));

  it('removes the container in cleanup even when the engine client was killed', async (context) => {
    sandbox.require(context);
    const instance = uniqueMarker('cleanup');
    const driver = createOciDriver({ image, instance });
    const plan = await driver.plan(sandbox.fixture.spec(['/bin/sh', '-c', 'echo up; sleep 600']));
    const client = spawn(plan.file, plan.args, {
      env: plan.env,
      cwd: plan.cwd ?? '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('up'), 'the container to start');
    client.kill('SIGKILL');
    await new Promise((resolve) => client.on('close', resolve));
    expect(containersOf(instance)).toHaveLength(1); // the killed client left its container running
    await plan.cleanup();
    expect(containersOf(instance)).toEqual([]);
  });

  it("reconcileLeftovers removes only this instance's leftovers, sparing kept sessions", async (context) => {
    sandbox.require(context);
    const instance = uniqueMarker('reconcile');
    const other = uniqueMarker('reconcile-other');
    const create = (session: string, label: string) =>
      execFileSync('podman', [
        'create',
        '--label',
        `warren.session=${session}`,
        '--label',
        `warren.instance=${label}`,
        image,
        '/bin/sh',
      ])
        .toString()
        .trim();
    const crashed = create('crashed-1', instance);
    const alive = create('alive-1', instance);
    const foreign = create('crashed-2', other);
    try {
      const driver = createOciDriver({ image, instance });
      const { removed } = await driver.reconcileLeftovers((sessionId) => sessionId === 'alive-1');
      expect(removed.map((id) => crashed.startsWith(id))).toEqual([true]);
      const remaining = containersOf(instance);
      expect(remaining.some((id) => alive.startsWith(id))).toBe(true);
      expect(remaining.some((id) => crashed.startsWith(id))).toBe(false);
      expect(containersOf(other)).toHaveLength(1);
      expect((await driver.reconcileLeftovers()).removed).toHaveLength(1);
      expect(containersOf(instance)).toEqual([]);
    } finally {
      execFileSync('podman', ['rm', '--force', '--ignore', crashed, alive, foreign]);
    }
  });

  it('runs a TTY session under node-pty with window size changes', async (context) => {
    sandbox.require(context);
    const script =
      'stty size; test -t 0 && echo isatty; echo "TERM=$TERM"; trap "echo winch; exit 7" WINCH; sleep 5 & wait';
    const plan = await createOciDriver({ image }).plan(
      sandbox.fixture.spec(['/bin/bash', '-c', script], { tty: true }),
    );
    const terminal = pty.spawn(plan.file, plan.args, {
      env: plan.env,
      cwd: plan.cwd ?? '/',
      cols: 100,
      rows: 30,
      name: 'xterm',
    });
    let output = '';
    terminal.onData((data) => {
      output += data;
      if (output.includes('TERM=')) terminal.resize(120, 40);
    });
    const exitCode = await new Promise<number>((resolve) =>
      terminal.onExit((event) => resolve(event.exitCode)),
    );
    await plan.cleanup();
    expect(output).toContain('30 100');
    expect(output).toContain('isatty');
    expect(output).toContain('TERM=xterm-256color');
    expect(output).toContain('winch');
    expect(exitCode).toBe(7);
  });

  it('refuses an image that is not present, saying how to get it (never pulls)', async (context) => {
    sandbox.require(context);
    const driver = createOciDriver({ image: 'localhost/warren-no-such-image:1' });
    const error = await driver.plan(sandbox.fixture.spec(['true'])).catch((caught: unknown) => caught);
    expect(isWarrenError(error) && error.code).toBe('not-found');
    expect(isWarrenError(error) && error.hint).toMatch(/warren image build --engine podman/);
  });

  it('uses the spec image over the driver default, and bwrap refuses images', async (context) => {
    sandbox.require(context);
    const driver = createOciDriver({ image: 'localhost/warren-no-such-image:1' });
    const result = await runSandboxed(
      driver,
      sandbox.fixture.spec(['/bin/sh', '-c', 'echo from-spec-image'], { image }),
    );
    expect(result.stdout).toBe('from-spec-image\n');
    const bwrap = await createBwrapDriver()
      .plan(sandbox.fixture.spec(['true'], { image }))
      .catch((caught: unknown) => caught);
    expect(isWarrenError(bwrap) && bwrap.message).toMatch(/bwrap driver .* cannot use the image/);
    const flag = await driver
      .plan(sandbox.fixture.spec(['true'], { image: '--privileged' }))
      .catch((caught: unknown) => caught);
    expect(isWarrenError(flag) && flag.message).toMatch(/image: must be an image reference/);
  });

  it('gpu: refuses on this GPU-less host, and plans CDI or device arguments from host facts', async (context) => {
    sandbox.require(context);
    const error = await createOciDriver({ image })
      .plan(sandbox.fixture.spec(['true'], { gpu: true }))
      .catch((caught: unknown) => caught);
    expect(isWarrenError(error) && error.message).toMatch(/^No NVIDIA GPU on this host/);
    const gpuHostFacts = {
      devEntries: ['nvidia0', 'nvidiactl', 'nvidia-uvm'],
      driEntries: [],
      cdiSpecFiles: [],
      driverLibraries: [
        {
          path: '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
          realPath: '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
        },
      ],
      driverPrograms: [],
    };
    const plan = await createOciDriver({ image, gpuHostFacts }).plan(
      sandbox.fixture.spec(['true'], { gpu: true }),
    );
    await plan.cleanup();
    expect(plan.args.join(' ')).toContain('--device /dev/nvidia0:/dev/nvidia0:rwm');
    expect(plan.args).toContain('LD_LIBRARY_PATH=/usr/local/nvidia/lib64');
    const cdi = await createOciDriver({
      image,
      gpuHostFacts: { ...gpuHostFacts, cdiSpecFiles: ['/etc/cdi/nvidia.yaml'] },
    }).plan(sandbox.fixture.spec(['true'], { gpu: true }));
    await cdi.cleanup();
    expect(cdi.args.join(' ')).toContain('--device nvidia.com/gpu=all');
  });

  it('refuses limits the engine would ignore (rootless podman on cgroup v1), and picks keep-id when rootless', async (context) => {
    sandbox.require(context);
    const rootlessV1 = {
      engine: 'podman' as const,
      rootless: true,
      runtime: undefined,
      openFilesLimit: 1024,
      processLimit: 1024,
      init: true,
      cgroupVersion: 1 as const,
      cgroupControllers: [],
    };
    const driver = createOciDriver({ image, hostFacts: rootlessV1 });
    const error = await driver
      .plan(sandbox.fixture.spec(['true'], { limits: { memoryBytes: 64 * 1024 * 1024 } }))
      .catch((caught: unknown) => caught);
    expect(isWarrenError(error) && error.message).toBe(
      'limits.memoryBytes cannot be enforced by podman here: rootless podman cannot set cgroup limits on a cgroup v1 host',
    );
    const plan = await driver.plan(sandbox.fixture.spec(['true'], { limits: { cpuSeconds: 5 } }));
    await plan.cleanup();
    expect(plan.args.join(' ')).toContain('--userns keep-id:uid=1000,gid=1000');
    expect(plan.args).not.toContain('--uidmap');
  });

  it('writes workspace files as the agent, readable back on the host', async (context) => {
    sandbox.require(context);
    const result = await runSandboxed(
      createOciDriver({ image }),
      sandbox.fixture.spec(['/bin/sh', '-c', 'echo from-agent > /workspace/out.txt && id -un']),
    );
    expect(result.stdout.trim()).toBe('agent');
    expect(execFileSync('cat', [`${sandbox.fixture.workspace}/out.txt`]).toString()).toBe('from-agent\n');
  });

  it('limits are reported with the engine mechanism', async (context) => {
    sandbox.require(context);
    const plan = await createOciDriver({ image }).plan(
      sandbox.fixture.spec(['true'], { limits: { memoryBytes: 64 * 1024 * 1024, pids: 16, cpuSeconds: 5 } }),
    );
    await plan.cleanup();
    expect(plan.limits.map((limit) => limit.limit)).toEqual(['memoryBytes', 'pids', 'cpuSeconds']);
    expect(plan.limits[0]?.mechanism).toMatch(/podman --memory/);
  });
});

describe('docker driver (client only on this host)', () => {
  it('reports an unreachable daemon or a missing client as unavailable, with what to do', async () => {
    const missing = await createOciDriver({
      engine: 'docker',
      enginePath: '/nonexistent/docker',
    }).available();
    expect(missing).toEqual({
      ok: false,
      reason: 'docker is not installed',
      install: 'apt-get install docker.io',
    });
    const availability = await createOciDriver({
      engine: 'docker',
      hostEnv: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    }).available();
    expect(availability.ok).toBe(false);
    if (!availability.ok) {
      expect(availability.reason).toMatch(/docker daemon is not reachable|docker is not installed/);
      expect(availability.install).toMatch(/dockerd|docker\.io/);
    }
  });
});
