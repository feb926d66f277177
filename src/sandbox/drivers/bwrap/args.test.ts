import { describe, expect, it } from 'vitest';
import { normalizeSandboxSpec, type SandboxSpec } from '../../spec.js';
import { buildBwrapArgs, type BwrapHostFacts } from './args.js';
import { buildNestedContainerArgs } from './nested-containers.js';

const facts: BwrapHostFacts = {
  rootEntries: [
    { path: '/bin', kind: 'symlink', target: 'usr/bin' },
    { path: '/lib64', kind: 'directory' },
  ],
  etcEntries: ['/etc/ssl/certs', '/etc/ld.so.cache'],
  generatedEtcDir: '/tmp/state',
  generatedEtcNames: ['passwd', 'hosts'],
  socatPath: '/usr/bin/socat',
  memoryFallbackKiB: undefined,
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

const argsFor = (overrides: Partial<SandboxSpec> = {}, factOverrides: Partial<BwrapHostFacts> = {}) =>
  buildBwrapArgs(normalizeSandboxSpec({ ...spec, ...overrides }), { ...facts, ...factOverrides });

/** Pairs like ['--ro-bind', src, dst] as "src -> dst" strings, for readable assertions. */
function binds(args: string[], flag: string): string[] {
  const found: string[] = [];
  args.forEach((arg, index) => {
    if (arg === flag) found.push(`${args[index + 1]} -> ${args[index + 2]}`);
  });
  return found;
}

describe('buildBwrapArgs', () => {
  it('unshares every namespace, drops capabilities and runs as uid/gid 1000', () => {
    const args = argsFor();
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net'])
      expect(args).toContain(flag);
    expect(args).toContain('--unshare-cgroup-try');
    expect(args).toContain('--die-with-parent');
    expect(args).toContain('--new-session');
    expect(args).not.toContain('--as-pid-1');
    expect(args.join(' ')).toContain('--uid 1000 --gid 1000 --hostname warren');
    expect(args.join(' ')).toContain('--cap-drop ALL');
  });

  it('disables nested user namespaces unless the driver allows them', () => {
    expect(argsFor()).toContain('--disable-userns');
    const allowed = buildBwrapArgs(normalizeSandboxSpec(spec), facts, { nestedUserNamespaces: true });
    expect(allowed).not.toContain('--disable-userns');
  });

  it('allows nested user namespaces and adds the podman binds only for a spec with nestedContainers', () => {
    const nestedContainerArgs = buildNestedContainerArgs({
      etcDir: '/tmp/state/containers',
      storageConfPath: '/tmp/state/storage.conf',
      cgroupFolder: '/sys/fs/cgroup/warren-nested-s1',
    });
    const args = argsFor({ nestedContainers: true }, { nestedContainerArgs });
    expect(args).not.toContain('--disable-userns');
    expect(binds(args, '--ro-bind')).toEqual(
      expect.arrayContaining([
        '/tmp/state/containers -> /etc/containers',
        '/tmp/state/storage.conf -> /home/agent/.config/containers/storage.conf',
        '/sys/fs/cgroup/warren-nested-s1 -> /sys/fs/cgroup',
      ]),
    );
    // After HOME's tmpfs (or it would hide the storage.conf bind), before the root is made read-only.
    const storageBind = args.indexOf('/home/agent/.config/containers/storage.conf');
    expect(storageBind).toBeGreaterThan(args.indexOf('/home/agent'));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(storageBind);
    // Facts for nested containers are ignored without the spec field: the sandbox stays as before.
    const off = argsFor({}, { nestedContainerArgs });
    expect(off).toContain('--disable-userns');
    expect(off.join(' ')).not.toContain('/etc/containers');
    expect(() => argsFor({ nestedContainers: true })).toThrow(/nested containers/);
  });

  it('keeps the TTY session when tty is set', () => {
    expect(argsFor({ tty: true })).not.toContain('--new-session');
  });

  it('mounts /usr read-only, recreates merged-usr links and binds only allow-listed /etc files', () => {
    const args = argsFor();
    expect(binds(args, '--ro-bind')).toEqual([
      '/usr -> /usr',
      '/lib64 -> /lib64',
      '/etc/ssl/certs -> /etc/ssl/certs',
      '/etc/ld.so.cache -> /etc/ld.so.cache',
      '/tmp/state/passwd -> /etc/passwd',
      '/tmp/state/hosts -> /etc/hosts',
      '/var/lib/warren/ca.pem -> /etc/warren/ca-bundle.pem',
      '/run/warren/s1.sock -> /run/warren/proxy.sock',
      '/srv/data -> /data',
    ]);
    expect(args.join(' ')).toContain('--symlink usr/bin /bin');
    expect(binds(args, '--bind')).toEqual(['/srv/work -> /workspace']);
    expect(args.filter((arg) => arg === '/etc')).toEqual([]);
  });

  it('overlays the system CA bundle with the Warren bundle, only when both exist', () => {
    const systemCaBundle = '/etc/ssl/certs/ca-certificates.crt';
    const overlay = `/var/lib/warren/ca.pem -> ${systemCaBundle}`;
    expect(binds(argsFor({}, { systemCaBundle }), '--ro-bind')).toContain(overlay);
    expect(binds(argsFor({ caBundlePath: undefined }, { systemCaBundle }), '--ro-bind')).not.toContain(
      overlay,
    );
    expect(binds(argsFor(), '--ro-bind').join()).not.toContain(systemCaBundle);
  });

  it('gives private /tmp, HOME and /dev/shm, and remounts the root read-only after all mounts', () => {
    const text = argsFor().join(' ');
    expect(text).toContain('--perms 1777 --tmpfs /tmp');
    expect(text).toContain('--perms 0700 --tmpfs /home/agent');
    expect(text).toContain('--dev /dev --perms 1777 --tmpfs /dev/shm');
    const args = argsFor();
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.lastIndexOf('--ro-bind'));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.lastIndexOf('--bind'));
  });

  it('binds protected paths after every other mount, in-workspace sources through the staged workspace', () => {
    const protectionMounts = [
      {
        source: '/tmp/state/protected/git-view',
        inWorkspace: false,
        target: '/workspace/.git',
        readonly: false,
      },
      { source: '.git', inWorkspace: true, target: '/run/warren/git', readonly: false },
      { source: '.git/config', inWorkspace: true, target: '/run/warren/git/config', readonly: true },
    ];
    const args = argsFor({}, { protectionMounts, stagedSources: { '/srv/work': '/tmp/state/stage/0' } });
    expect(binds(args, '--bind')).toEqual([
      '/tmp/state/stage/0 -> /workspace',
      '/tmp/state/protected/git-view -> /workspace/.git',
      '/tmp/state/stage/0/.git -> /run/warren/git',
    ]);
    expect(binds(args, '--ro-bind')).toContain('/tmp/state/stage/0/.git/config -> /run/warren/git/config');
    expect(args.indexOf('/run/warren/git/config')).toBeGreaterThan(args.indexOf('/data'));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.indexOf('/run/warren/git/config'));
  });

  it('clears the environment before setting the contract, then runs the launcher with the command as "$@"', () => {
    const args = argsFor();
    const clear = args.indexOf('--clearenv');
    expect(clear).toBeGreaterThan(0);
    expect(args.indexOf('--setenv')).toBeGreaterThan(clear);
    expect(args.join(' ')).toContain('--setenv WARREN_SESSION s1');
    expect(args.join(' ')).toContain('--chdir /workspace');
    const separator = args.indexOf('--');
    expect(args.slice(separator + 1, separator + 3)).toEqual(['/bin/sh', '-c']);
    expect(args[separator + 3]).toContain('/usr/bin/socat TCP-LISTEN:3128,bind=127.0.0.1');
    expect(args.slice(separator + 4)).toEqual([
      'warren-launcher',
      'claude',
      '--dangerously-skip-permissions',
    ]);
  });

  it('refuses a proxy without socat, and starts no bridge without a proxy', () => {
    expect(() => argsFor({}, { socatPath: undefined })).toThrow(
      /apt-get install socat|socat is not installed/,
    );
    const args = argsFor({ proxy: undefined }, { socatPath: undefined });
    expect(args.join(' ')).not.toContain('socat');
    expect(args.join(' ')).not.toContain('proxy.sock');
  });

  it('sizes the /tmp, HOME and /dev/shm tmpfs with --size right before each --tmpfs', () => {
    const text = argsFor({ limits: { tmpBytes: 1048576, homeBytes: 2097152, shmBytes: 3145728 } }).join(' ');
    expect(text).toContain('--perms 1777 --size 1048576 --tmpfs /tmp');
    expect(text).toContain('--perms 0700 --size 2097152 --tmpfs /home/agent');
    expect(text).toContain('--dev /dev --perms 1777 --size 3145728 --tmpfs /dev/shm');
    expect(argsFor().join(' ')).not.toContain('--size');
  });

  it('puts the fallback process limit into the launcher, for dash (-p) and bash (-u) alike', () => {
    const args = argsFor({}, { processFallback: 512 });
    expect(args[args.indexOf('--') + 3]).toContain('ulimit -u 512 2>/dev/null || ulimit -p 512 ||');
    const without = argsFor();
    expect(without[without.indexOf('--') + 3]).not.toContain('ulimit -u');
  });

  it('puts cpu and fallback memory limits into the launcher', () => {
    const args = argsFor({ limits: { cpuSeconds: 30 } }, { memoryFallbackKiB: 65536 });
    const launcher = args[args.indexOf('--') + 3];
    expect(launcher).toContain('ulimit -t 30');
    expect(launcher).toContain('ulimit -v 65536');
  });
});
