import { describe, expect, it } from 'vitest';
import { normalizeSandboxSpec, type SandboxSpec } from '../../spec.js';
import { spawnSync } from 'node:child_process';
import { buildOciRunArgs, dropOtherVariablesLines, LAUNCHER_PATH } from './args.js';
import type { OciHostFacts, OciRunSettings } from './facts.js';

const podmanFacts: OciHostFacts = {
  engine: 'podman',
  rootless: false,
  runtime: 'runc',
  openFilesLimit: 20000,
  processLimit: 32768,
  init: true,
  cgroupVersion: 1,
  cgroupControllers: ['cpu', 'memory', 'pids'],
};
const dockerFacts: OciHostFacts = { ...podmanFacts, engine: 'docker', runtime: undefined };

const settings: OciRunSettings = {
  image: 'localhost/warren-agent:latest',
  containerName: 'warren-s1-abcd',
  instance: 'main',
  userNamespace: 'private',
  uidMapBase: 2_000_000_000,
  stateDir: '/tmp/state',
  socatPath: '/usr/bin/socat',
  gpuArgs: [],
  cacheMounts: [],
};

const spec: SandboxSpec = {
  sessionId: 's1',
  workspace: '/srv/work',
  proxy: { socketPath: '/run/warren/s1.sock' },
  caBundlePath: '/var/lib/warren/ca.pem',
  gateway: { token: 'wt' },
  mounts: [{ source: '/srv/data', target: '/data', readonly: true }],
  command: ['claude', '--dangerously-skip-permissions'],
};

const build = (
  overrides: Partial<SandboxSpec> = {},
  facts: OciHostFacts = podmanFacts,
  settingOverrides: Partial<OciRunSettings> = {},
) =>
  buildOciRunArgs(normalizeSandboxSpec({ ...spec, ...overrides }), facts, {
    ...settings,
    ...settingOverrides,
  });

/** Values that follow each occurrence of `flag`. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] as string] : []));
}

describe('buildOciRunArgs (podman)', () => {
  it('isolates: no network, no capabilities, no new privileges, read-only root, private ipc and cgroups', () => {
    const text = build().args.join(' ');
    for (const part of [
      'run --rm --interactive',
      '--network none',
      '--cap-drop ALL',
      '--security-opt no-new-privileges',
      '--read-only --read-only-tmpfs=false',
      '--ipc private',
      '--cgroupns private',
      '--pull never',
      '--no-hosts',
      '--init',
      '--runtime runc',
      '--user 1000:1000',
      '--workdir /workspace',
      '--hostname warren',
    ])
      expect(text).toContain(part);
    expect(text).not.toContain('--privileged');
    expect(text).not.toContain('--tty');
  });

  it('labels the container with its session and instance and names it', () => {
    const { args } = build();
    expect(valuesOf(args, '--label')).toEqual(['warren.session=s1', 'warren.instance=main']);
    expect(valuesOf(args, '--name')).toEqual(['warren-s1-abcd']);
  });

  it('maps users privately and chowns only the workspace and proxy socket to the agent', () => {
    const { args } = build();
    expect(valuesOf(args, '--uidmap')).toEqual(['0:2000000000:65536']);
    expect(valuesOf(args, '--gidmap')).toEqual(['0:2000000000:65536']);
    expect(valuesOf(args, '--volume')).toEqual([
      '/tmp/state/hosts:/etc/hosts:ro',
      `/tmp/state/launcher.sh:${LAUNCHER_PATH}:ro`,
      '/var/lib/warren/ca.pem:/etc/warren/ca-bundle.pem:ro',
      '/run/warren/s1.sock:/run/warren/proxy.sock:rw,U',
      '/srv/work:/workspace:rw,U',
      '/srv/data:/data:ro',
    ]);
    expect(valuesOf(args, '--tmpfs')).toEqual([
      '/tmp:rw,nosuid,nodev,mode=1777',
      '/home/agent:rw,nosuid,nodev,mode=0700,U',
    ]);
  });

  it('mounts protected paths after every other volume, in-workspace sources from the workspace', () => {
    const { args } = build({}, podmanFacts, {
      protectionMounts: [
        {
          source: '/tmp/state/protected/git-view',
          inWorkspace: false,
          target: '/workspace/.git',
          readonly: false,
        },
        { source: '.git', inWorkspace: true, target: '/run/warren/git', readonly: false },
        { source: '.vscode', inWorkspace: true, target: '/workspace/.vscode', readonly: true },
      ],
    });
    expect(valuesOf(args, '--volume').slice(-4)).toEqual([
      '/srv/data:/data:ro',
      '/tmp/state/protected/git-view:/workspace/.git:rw',
      '/srv/work/.git:/run/warren/git:rw',
      '/srv/work/.vscode:/workspace/.vscode:ro',
    ]);
  });

  it('uses keep-id for rootless podman and refuses it for rootful', () => {
    const { args } = build({}, { ...podmanFacts, rootless: true }, { userNamespace: 'keep-id' });
    expect(valuesOf(args, '--userns')).toEqual(['keep-id:uid=1000,gid=1000']);
    expect(valuesOf(args, '--volume')).toContain('/srv/work:/workspace:rw');
    expect(() => build({}, podmanFacts, { userNamespace: 'keep-id' })).toThrow(/rootless/);
    expect(valuesOf(build({}, podmanFacts, { userNamespace: 'host' }).args, '--userns')).toEqual(['host']);
  });

  it('clears the image and engine environment and sets exactly the contract', () => {
    const { args, launcher } = build();
    const unset = args.indexOf('--unsetenv-all');
    expect(unset).toBeGreaterThan(0);
    const env = valuesOf(args, '--env');
    expect(args.indexOf('--env')).toBeGreaterThan(unset);
    expect(env).toContain('WARREN_SESSION=s1');
    expect(env).toContain('HTTPS_PROXY=http://127.0.0.1:3128');
    expect(env).toContain('ANTHROPIC_API_KEY=wt');
    expect(env).toContain('SSL_CERT_FILE=/etc/warren/ca-bundle.pem');
    expect(env.some((entry) => entry.startsWith('HOSTNAME='))).toBe(false);
    expect(launcher).toContain('unset HOSTNAME container');
  });

  it('runs the mounted launcher with the command as its arguments', () => {
    const { args, launcher } = build();
    const image = args.indexOf('localhost/warren-agent:latest');
    expect(args[image - 2]).toBe('--entrypoint');
    expect(args[image - 1]).toBe('/bin/sh');
    expect(args.slice(image + 1)).toEqual([LAUNCHER_PATH, 'claude', '--dangerously-skip-permissions']);
    expect(launcher).toContain('/usr/bin/socat TCP-LISTEN:3128,bind=127.0.0.1');
    expect(launcher).toContain(
      "[ -x /usr/bin/socat ] || { echo 'warren: the image localhost/warren-agent:latest has no /usr/bin/socat",
    );
    expect(launcher).toMatch(/exec "\$@"$/);
  });

  it('starts no bridge and mounts no socket without a proxy', () => {
    const { args, launcher } = build({ proxy: undefined });
    expect(args.join(' ')).not.toContain('proxy.sock');
    expect(launcher).not.toContain('socat');
  });

  it('maps limits to engine flags, at or under the host hard limits', () => {
    const { args, launcher } = build({
      limits: { memoryBytes: 64 * 1024 * 1024, pids: 64, cpuSeconds: 30, cpus: 1.5 },
    });
    expect(valuesOf(args, '--cpus')).toEqual(['1.5']);
    expect(valuesOf(args, '--ulimit')).toEqual(['nofile=20000:20000', 'nproc=32768:32768']);
    expect(valuesOf(args, '--memory')).toEqual(['67108864']);
    expect(valuesOf(args, '--memory-swap')).toEqual(['67108864']);
    expect(valuesOf(args, '--pids-limit')).toEqual(['64']);
    expect(launcher).toContain('ulimit -t 30');
    expect(build().args).not.toContain('--memory');
  });

  it('sizes /tmp and HOME with size= and /dev/shm with --shm-size, for podman and docker', () => {
    const limits = { tmpBytes: 1048576, homeBytes: 2097152, shmBytes: 3145728 };
    const { args } = build({ limits });
    expect(valuesOf(args, '--tmpfs')).toEqual([
      '/tmp:rw,nosuid,nodev,mode=1777,size=1048576',
      '/home/agent:rw,nosuid,nodev,mode=0700,U,size=2097152',
    ]);
    expect(valuesOf(args, '--shm-size')).toEqual(['3145728']);
    const docker = build({ limits }, dockerFacts, { userNamespace: 'host' }).args;
    expect(valuesOf(docker, '--tmpfs')[1]).toBe(
      '/home/agent:rw,nosuid,nodev,mode=0700,uid=1000,gid=1000,size=2097152',
    );
    expect(valuesOf(docker, '--shm-size')).toEqual(['3145728']);
    expect(build().args).not.toContain('--shm-size');
  });

  it('keeps no log copy, and uses a terminal for TTY sessions', () => {
    expect(valuesOf(build({ tty: true }).args, '--log-driver')).toEqual(['none']);
    expect(build({ tty: true }).args).toContain('--tty');
    expect(valuesOf(build().args, '--log-driver')).toEqual(['none']);
  });

  it('omits --runtime and --init when the host does not need or have them', () => {
    const { args } = build({}, { ...podmanFacts, runtime: undefined, init: false });
    expect(args).not.toContain('--runtime');
    expect(args).not.toContain('--init');
  });

  it('refuses paths with ":" instead of mis-splitting them', () => {
    expect(() => build({ workspace: '/srv/a:b' })).toThrow(/contains ":"/);
  });
});

describe('buildOciRunArgs (docker)', () => {
  const dockerSettings = { userNamespace: 'host' as const };

  it('uses the same isolation flags without podman-only ones', () => {
    const { args } = build({}, dockerFacts, dockerSettings);
    const text = args.join(' ');
    for (const part of [
      '--network none',
      '--cap-drop ALL',
      '--security-opt no-new-privileges',
      '--read-only',
      '--user 1000:1000',
      '--pull never',
      '--init',
    ])
      expect(text).toContain(part);
    for (const podmanOnly of [
      '--unsetenv-all',
      '--no-hosts',
      '--read-only-tmpfs',
      '--uidmap',
      '--systemd',
      '--runtime',
    ])
      expect(args).not.toContain(podmanOnly);
    expect(valuesOf(args, '--log-driver')).toEqual(['none']);
    expect(valuesOf(args, '--userns')).toEqual(['host']);
  });

  it('gives HOME to uid 1000 with tmpfs options and never uses the U volume flag', () => {
    const { args } = build({}, dockerFacts, dockerSettings);
    expect(valuesOf(args, '--tmpfs')).toContain('/home/agent:rw,nosuid,nodev,mode=0700,uid=1000,gid=1000');
    expect(valuesOf(args, '--volume').some((entry) => entry.endsWith(',U'))).toBe(false);
  });

  it("drops the image's variables in the launcher, since docker has no --unsetenv-all", () => {
    const { launcher } = build({}, dockerFacts, dockerSettings);
    expect(launcher).toContain("awk 'BEGIN { for (name in ENVIRON) print name }'");
    expect(launcher).toMatch(/case "\$warren_name" in [A-Za-z_|]*WARREN_SESSION/);
    expect(build().launcher).not.toContain('ENVIRON'); // podman: --unsetenv-all does it
    const script = [...dropOtherVariablesLines(new Set(['PATH', 'KEEP_ME'])), 'env'].join('\n');
    const result = spawnSync('/bin/sh', ['-c', script], {
      env: { PATH: '/usr/bin:/bin', KEEP_ME: 'kept', IMAGE_SECRET: 'from-the-image', NODE_VERSION: '22' },
    });
    const names = result.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    expect(names).toContain('KEEP_ME');
    expect(names).not.toContain('IMAGE_SECRET');
    expect(names).not.toContain('NODE_VERSION');
  });

  it('refuses per-container user maps, which docker does not have', () => {
    expect(() => build({}, dockerFacts, { userNamespace: 'private' })).toThrow(
      /docker cannot use the "private"/,
    );
  });
});
