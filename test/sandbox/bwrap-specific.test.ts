import pty from '@lydell/node-pty';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBwrapDriver, defaultSandboxLimits, runSandboxed } from '../../src/sandbox/index.js';
import { sh, waitFor } from './contract-kit.js';
import { FORK_BOMB } from './contract-limits.case.js';
import { useDriverSuite } from './fixtures.js';

/** Behaviour of the bwrap driver beyond the shared contract: TTY, limit fallbacks, refusals. */
describe('bwrap driver', () => {
  const sandbox = useDriverSuite(() => createBwrapDriver());
  const noCgroups = { v1: {}, v2: undefined };

  it('runs a TTY session under node-pty with job control and window size changes', async (context) => {
    sandbox.require(context);
    // The trap comes first so that the resize, sent once "ready" is seen, cannot arrive before it.
    const script =
      'trap "echo winch; exit 7" WINCH; stty size; test -t 0 && echo isatty; echo "TERM=$TERM"; echo ready; sleep 5 & wait';
    const plan = await createBwrapDriver().plan(
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
    let resized = false;
    terminal.onData((data) => {
      output += data;
      if (!resized && output.includes('ready')) {
        resized = true;
        terminal.resize(120, 40);
      }
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

  it('escape: the command cannot create user namespaces of its own, unless the driver allows it', async (context) => {
    sandbox.require(context);
    const script = ['/bin/sh', '-c', 'unshare --user --map-root-user id -u && echo nested-created'];
    const refused = await runSandboxed(createBwrapDriver(), sandbox.fixture.spec(script));
    expect(refused.stdout).not.toContain('nested-created');
    expect(refused.stderr).toMatch(/unshare failed/);
    // Positive control: the same attempt works when the driver allows nested user namespaces.
    const allowed = await runSandboxed(
      createBwrapDriver({ nestedUserNamespaces: true }),
      sandbox.fixture.spec(script),
    );
    expect(allowed.stdout).toBe('0\nnested-created\n');
  });

  it('escape: refused system calls answer ENOSYS inside, and the filter descriptor does not leak', async (context) => {
    sandbox.require(context);
    // perl (Debian's essential perl-base) makes raw system calls: io_uring_setup, bpf, userfaultfd, keyctl, getpid.
    const numbers = process.arch === 'arm64' ? [425, 280, 282, 219, 172] : [425, 321, 323, 250, 39];
    const calls = numbers.map(
      (number) => `perl -e 'syscall(${number}, 0, 0, 0); print "${number}:", $!+0, "\\n"'`,
    );
    const script = ['/bin/sh', '-c', `readlink /proc/$$/fd/3 || echo no-fd-3; ${calls.join('; ')}`];
    const filtered = await runSandboxed(createBwrapDriver(), sandbox.fixture.spec(script));
    if (/perl: not found/.test(filtered.stderr))
      throw new Error('perl is missing: apt-get install perl-base');
    const [getpid, ...refused] = [numbers.at(-1), ...numbers.slice(0, -1)];
    expect(filtered.stdout).toContain('no-fd-3');
    for (const number of refused) expect(filtered.stdout).toContain(`${number}:38\n`);
    expect(filtered.stdout).toContain(`${getpid}:0\n`);
    // Positive control: without the filter the same calls reach the kernel and fail otherwise (bad arguments).
    const unfiltered = await runSandboxed(
      createBwrapDriver({ syscallFilter: false }),
      sandbox.fixture.spec(script),
    );
    for (const number of refused) expect(unfiltered.stdout).not.toContain(`${number}:38\n`);
  });

  it("puts Warren's CA bundle where tools that ignore the CA variables look", async (context) => {
    sandbox.require(context);
    const bundlePath = join(sandbox.fixture.root, 'bundle.pem');
    writeFileSync(bundlePath, '# warren test bundle\n');
    const script = ['/bin/sh', '-c', 'env -u SSL_CERT_FILE head -c 64 /etc/ssl/certs/ca-certificates.crt'];
    const withBundle = await runSandboxed(
      createBwrapDriver(),
      sandbox.fixture.spec(script, { caBundlePath: bundlePath }),
    );
    expect(withBundle.stdout).toBe('# warren test bundle\n');
    // Without a bundle the system's own file is there, unchanged.
    const without = await runSandboxed(createBwrapDriver(), sandbox.fixture.spec(script));
    expect(without.stdout).toBe(
      readFileSync('/etc/ssl/certs/ca-certificates.crt').subarray(0, 64).toString(),
    );
  });

  it('without a pids cgroup, holds the pids limit with RLIMIT_NPROC of the sandbox user', async (context) => {
    sandbox.require(context);
    // The sandbox user is never host root (host-identity.ts), so the kernel applies RLIMIT_NPROC to it; counted per
    // user namespace, it bounds this sandbox alone.
    const driver = createBwrapDriver({ cgroupLocation: noCgroups });
    const spec = sandbox.fixture.spec(sh(FORK_BOMB), { limits: { pids: 64 } });
    const plan = await driver.plan(spec);
    await plan.cleanup();
    expect(plan.limits).toEqual([
      expect.objectContaining({
        limit: 'pids',
        value: 64,
        mechanism: expect.stringMatching(/^RLIMIT_NPROC/),
      }),
    ]);
    const result = await runSandboxed(driver, spec, { stdin: '' });
    expect(result.status).toBe(0);
    const started = Number(readFileSync(join(sandbox.fixture.workspace, 'started'), 'utf8'));
    expect(started).toBeLessThan(64);
    expect(started).toBeGreaterThan(50);
  });

  it('reports a default limit no cgroup takes instead of refusing, and never makes RLIMIT_AS a default', async (context) => {
    sandbox.require(context);
    const driver = createBwrapDriver({ cgroupLocation: noCgroups });
    const spec = sandbox.fixture.spec(sh('ulimit -v; ulimit -u 2>/dev/null || ulimit -p'), {
      defaultLimits: { memoryBytes: 1024 ** 3, pids: 4096 },
    });
    const plan = await driver.plan(spec);
    await plan.cleanup();
    expect(plan.unenforced).toEqual([
      expect.objectContaining({ limit: 'memoryBytes', reason: 'no writable memory cgroup' }),
    ]);
    expect(plan.limits.map((entry) => `${entry.limit} ${entry.mechanism.split(' ')[0]}`)).toEqual([
      'pids RLIMIT_NPROC',
    ]);
    const result = await runSandboxed(driver, spec);
    expect(result.stdout).toBe('unlimited\n4096\n');
  });

  it('writes the default limits to the session cgroups, and the sandbox runs in them', async (context) => {
    sandbox.require(context);
    const defaults = defaultSandboxLimits(totalmem());
    const spec = sandbox.fixture.spec(sh('touch /workspace/ready; read -r line'), {
      defaultLimits: defaults,
    });
    const plan = await createBwrapDriver().plan(spec);
    const folderOf = (limit: string) =>
      /at (\/\S+)/.exec(plan.limits.find((entry) => entry.limit === limit)?.mechanism ?? '')?.[1];
    const pidsFolder = folderOf('pids');
    const memoryFolder = folderOf('memoryBytes');
    if (!pidsFolder || !memoryFolder) {
      // A host without writable cgroups (a normal user without delegation): the fallbacks above hold instead.
      await plan.cleanup();
      expect(plan.unenforced?.map((entry) => entry.limit)).toContain('memoryBytes');
      return;
    }
    const child = spawn(plan.file, plan.args, {
      env: plan.env,
      cwd: plan.cwd ?? '/',
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      await waitFor(
        () => existsSync(join(sandbox.fixture.workspace, 'ready')),
        'the sandbox to start',
        15_000,
      );
      expect(readFileSync(join(pidsFolder, 'pids.max'), 'utf8').trim()).toBe(String(defaults.pids));
      const memoryFile = existsSync(join(memoryFolder, 'memory.max'))
        ? 'memory.max'
        : 'memory.limit_in_bytes';
      expect(readFileSync(join(memoryFolder, memoryFile), 'utf8').trim()).toBe(String(defaults.memoryBytes));
      expect(Number(readFileSync(join(pidsFolder, 'pids.current'), 'utf8'))).toBeGreaterThan(1);
      expect(readFileSync(join(memoryFolder, 'cgroup.procs'), 'utf8').trim()).not.toBe('');
    } finally {
      child.stdin?.end();
      await closed;
      await plan.cleanup();
    }
  });

  it('falls back to RLIMIT_AS for memory when no memory cgroup is writable, and it holds', async (context) => {
    sandbox.require(context);
    const driver = createBwrapDriver({ cgroupLocation: noCgroups });
    const spec = sandbox.fixture.spec(['true'], { limits: { memoryBytes: 64 * 1024 * 1024 } });
    const plan = await driver.plan(spec);
    await plan.cleanup();
    expect(plan.limits).toEqual([
      expect.objectContaining({ limit: 'memoryBytes', mechanism: expect.stringMatching(/^RLIMIT_AS/) }),
    ]);
    const awk = `awk 'BEGIN { s = "x"; while (length(s) < 536870912) s = s s; print "allocated" }'`;
    const result = await runSandboxed(driver, {
      ...spec,
      command: ['/bin/sh', '-c', `${awk}; echo "status=$?"`],
    });
    expect(result.stdout).not.toContain('allocated\n');
    expect(result.stdout).toMatch(/status=[1-9]/);
  });

  it('reports how each limit is enforced and removes its cgroups afterwards', async (context) => {
    sandbox.require(context);
    const spec = sandbox.fixture.spec(['true'], {
      limits: { pids: 64, memoryBytes: 256 * 1024 * 1024, cpuSeconds: 5 },
    });
    const plan = await createBwrapDriver().plan(spec);
    const mechanisms = Object.fromEntries(plan.limits.map((entry) => [entry.limit, entry.mechanism]));
    await plan.cleanup();
    expect(mechanisms.cpuSeconds).toMatch(/RLIMIT_CPU/);
    expect(mechanisms.pids).toMatch(/^cgroup v[12]|^RLIMIT_NPROC/);
    expect(mechanisms.memoryBytes).toMatch(/^cgroup v[12]|^RLIMIT_AS/);
    const { existsSync } = await import('node:fs');
    for (const mechanism of [mechanisms.pids, mechanisms.memoryBytes]) {
      const folder = /at (\/\S+)/.exec(mechanism ?? '')?.[1];
      if (folder) expect(existsSync(folder)).toBe(false);
    }
  });

  it('fails with the Debian package to install when bwrap or socat is missing', async () => {
    const noBwrap = createBwrapDriver({ bwrapPath: '/nonexistent/bwrap' });
    expect(await noBwrap.available()).toEqual({
      ok: false,
      reason: 'bubblewrap is not installed',
      install: 'apt-get install bubblewrap',
    });
    await expect(noBwrap.plan(sandbox.fixture.spec(['true']))).rejects.toThrow(
      'bubblewrap is not installed: apt-get install bubblewrap',
    );
    const noSocat = createBwrapDriver({ socatPath: '/nonexistent/socat' });
    await expect(noSocat.plan(sandbox.fixture.spec(['true']))).rejects.toThrow(/socat/);
  });
});
