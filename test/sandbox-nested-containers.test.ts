import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { createBwrapDriver, runSandboxed, type DriverAvailability } from '../src/sandbox/index.js';
import { createOciDriver } from '../src/sandbox/drivers/oci/index.js';
import { ensureTestImage } from './helpers/rootfs.js';
import { createSandboxFixture, type SandboxFixture } from './sandbox/fixtures.js';

const run = promisify(execFile);

/**
 * Rootless podman inside a Warren bwrap sandbox (spec.nestedContainers), for real: an image assembled from this
 * host's binaries is saved as an archive into the workspace, loaded by the podman inside and run. The host's
 * podman builds that archive; the sandbox never sees the host's storage or socket.
 */
describe('nested containers in the bwrap sandbox', () => {
  let availability: DriverAvailability;
  let image: string;
  let archiveFolder: string;
  let archive: string;
  let fixture: SandboxFixture;

  beforeAll(async () => {
    availability = await createBwrapDriver().available();
    if (!existsSync('/usr/bin/podman') || !existsSync('/usr/bin/runc')) {
      availability = {
        ok: false,
        reason: 'podman and runc are not installed',
        install: 'apt-get install podman runc',
      };
      return;
    }
    image = await ensureTestImage();
    archiveFolder = mkdtempSync(join(tmpdir(), 'warren-nested-image-'));
    archive = join(archiveFolder, 'image.tar');
    await run('podman', ['save', '--quiet', '--format', 'oci-archive', '-o', archive, image]);
  }, 180_000);
  afterAll(() => {
    if (archiveFolder) rmSync(archiveFolder, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fixture = await createSandboxFixture();
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  function requireTools(context: TestContext) {
    if (availability.ok) return;
    if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
    throw new Error(`${availability.reason}: ${availability.install}`);
  }

  /** Checks that the host's podman storage and sockets are absent, printing one word per path. */
  const hostEngineProbe = [
    '/var/lib/containers',
    '/run/podman/podman.sock',
    '/run/containers',
    '/var/run/docker.sock',
    '/root/.local/share/containers',
  ]
    .map((path) => `if [ -e ${path} ]; then echo "visible ${path}"; else echo "absent ${path}"; fi`)
    .join('; ');

  it('loads an image and runs `podman run --rm IMAGE echo hi` inside, with its own storage', async (context) => {
    requireTools(context);
    copyFileSync(archive, join(fixture.workspace, 'image.tar'));
    const script = [
      'set -e',
      hostEngineProbe,
      // The inner storage starts empty: the host's images (the test image among them) are not there.
      'echo "images before: $(podman images -q | wc -l)"',
      'podman info --format "graphroot={{.Store.GraphRoot}} rootless={{.Host.Security.Rootless}}"',
      'podman load -q -i /workspace/image.tar >/dev/null',
      `podman run --rm ${image} echo hi`,
      // Inside the inner container, too, the host engine is out of reach.
      `podman run --rm ${image} sh -c '${hostEngineProbe.replace(/'/g, `'"'"'`)}' | sed 's/^/inner /'`,
    ].join('\n');
    const result = await runSandboxed(
      createBwrapDriver(),
      fixture.spec(['/bin/sh', '-c', script], { nestedContainers: true }),
      { timeoutMs: 120_000 },
    );
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('hi');
    expect(lines).toContain('images before: 0');
    expect(lines).toContain('graphroot=/home/agent/.local/share/containers/storage rootless=true');
    expect(result.stdout).not.toMatch(/visible/);
    expect(result.stdout).toContain('absent /var/lib/containers');
    expect(result.stdout).toContain('inner absent /var/lib/containers');
    expect(result.stdout).toContain('inner absent /run/podman/podman.sock');
  }, 150_000);

  it('runs inner containers under the session limits (memory and pids cgroups hold them too)', async (context) => {
    requireTools(context);
    copyFileSync(archive, join(fixture.workspace, 'image.tar'));
    const script = [
      'podman load -q -i /workspace/image.tar >/dev/null',
      `podman run --rm ${image} sh -c 'echo inner-ok; cat /proc/self/cgroup'`,
      'cat /proc/self/cgroup',
    ].join('\n');
    const result = await runSandboxed(
      createBwrapDriver(),
      fixture.spec(['/bin/sh', '-c', script], {
        nestedContainers: true,
        limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256 },
      }),
      { timeoutMs: 120_000 },
    );
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('inner-ok');
    // The inner container sits in the same cgroups as the session's shell: it cannot leave the session's limits.
    const cgroupLines = lines.filter((line) => /^\d+:/.test(line));
    expect(cgroupLines.length).toBeGreaterThan(1);
    const half = cgroupLines.length / 2;
    expect(cgroupLines.slice(0, half)).toEqual(cgroupLines.slice(half));
  }, 150_000);

  it('without the option, podman inside cannot run a container and the host engine stays invisible', async (context) => {
    requireTools(context);
    copyFileSync(archive, join(fixture.workspace, 'image.tar'));
    const script = [
      hostEngineProbe,
      // The root cause: no user namespace can be made, so no rootless engine (podman, buildah, docker) can run.
      'unshare --user --map-root-user true 2>/dev/null && echo userns-created || echo userns-refused',
      'podman load -q -i /workspace/image.tar >/dev/null 2>&1',
      `podman run --rm ${image} echo hi; echo "run status $?"`,
    ].join('\n');
    const result = await runSandboxed(createBwrapDriver(), fixture.spec(['/bin/sh', '-c', script]), {
      timeoutMs: 60_000,
    });
    const lines = result.stdout.split('\n');
    expect(lines).not.toContain('hi');
    expect(lines).toContain('userns-refused');
    expect(result.stdout).toMatch(/run status [1-9]/);
    expect(result.stdout).not.toMatch(/visible/);
    expect(result.stdout).toContain('absent /var/lib/containers');
    expect(result.stdout).toContain('absent /run/podman/podman.sock');
  }, 90_000);

  it('escape: the cgroup folder and the podman configuration stay read-only, even from a nested namespace', async (context) => {
    requireTools(context);
    const attempts = [
      'echo $$ > /sys/fs/cgroup/cgroup.procs',
      'mkdir /sys/fs/cgroup/escape',
      'echo x > /etc/containers/containers.conf',
      'echo x > /home/agent/.config/containers/storage.conf',
      // Root in a user namespace of its own: the binds were locked read-only when that namespace copied them.
      'unshare --user --map-root-user --mount mount -o remount,bind,rw /sys/fs/cgroup',
      'unshare --user --map-root-user --mount mount -o remount,bind,rw /etc/containers',
    ];
    // Positive control: the same tools do mount in a nested namespace, where nothing is locked.
    const control =
      'unshare --user --map-root-user --mount sh -c "mount -t tmpfs none /tmp && echo control mounted"';
    const script = [
      control,
      ...attempts.map(
        (attempt, index) =>
          `(${attempt}) 2>/dev/null && echo "attempt ${index} succeeded" || echo "attempt ${index} refused"`,
      ),
    ].join('; ');
    const result = await runSandboxed(
      createBwrapDriver(),
      fixture.spec(['/bin/sh', '-c', script], { nestedContainers: true }),
      { timeoutMs: 30_000 },
    );
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('control mounted');
    expect(lines.slice(1)).toEqual(attempts.map((_, index) => `attempt ${index} refused`));
  });

  it('sends image pulls through the egress proxy', async (context) => {
    requireTools(context);
    // A plain-HTTP registry name: podman asks the proxy (HTTPS_PROXY/HTTP_PROXY inside), never the network.
    // The fake proxy answers with text, so the pull fails after the request was recorded.
    const script =
      'podman pull --tls-verify=false registry.warren-test.invalid:5000/app:1 >/dev/null 2>&1; echo done';
    const result = await runSandboxed(
      createBwrapDriver(),
      fixture.spec(['/bin/sh', '-c', script], { nestedContainers: true }),
      { timeoutMs: 60_000 },
    );
    expect(result.stdout).toBe('done\n');
    expect(fixture.proxyRequests.map((request) => request.url)).toContain(
      'http://registry.warren-test.invalid:5000/v2/',
    );
  }, 90_000);

  it('is refused by the podman/docker driver with a clear error', async () => {
    const driver = createOciDriver({ engine: 'podman', image: 'localhost/unused', instance: 'nested-test' });
    await expect(driver.plan(fixture.spec(['/bin/true'], { nestedContainers: true }))).rejects.toThrow(
      /Nested containers are not supported with the podman driver/,
    );
  });
});
