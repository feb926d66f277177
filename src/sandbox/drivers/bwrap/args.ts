import { WarrenError } from '../../../errors/index.js';
import { SANDBOX_PATHS, SANDBOX_USER } from '../../constants.js';
import { environmentOfNormalizedSpec } from '../../environment.js';
import type { ProtectionMount } from '../../protected-paths/index.js';
import type { NormalizedSandboxSpec } from '../../spec.js';
import { buildLauncherScript } from './launcher.js';

/** A top-level host entry such as /bin: on merged-/usr systems a link into /usr, elsewhere a real folder. */
export type RootEntry =
  { path: string; kind: 'symlink'; target: string } | { path: string; kind: 'directory' };

/** What buildBwrapArgs needs to know about the host; gathered by host-facts.ts, fixed in unit tests. */
export interface BwrapHostFacts {
  rootEntries: RootEntry[];
  /** SAFE_ETC_ENTRIES that exist on this host. */
  etcEntries: string[];
  /** The per-session folder holding generated /etc files, and their names. */
  generatedEtcDir: string;
  generatedEtcNames: string[];
  /** Absolute path of socat, visible inside because it lies under /usr (required when spec.proxy is set). */
  socatPath: string | undefined;
  /** Memory cap per process (RLIMIT_AS, KiB) when no memory cgroup could take spec.limits.memoryBytes. */
  memoryFallbackKiB: number | undefined;
  /** RLIMIT_NPROC for the sandbox user when no pids cgroup could take spec.limits.pids (bwrap-driver.ts). */
  processFallback?: number;
  /**
   * The system's default CA bundle file (Debian: /etc/ssl/certs/ca-certificates.crt) when it is present among the
   * bound /etc entries; with spec.caBundlePath it is overlaid by Warren's bundle, a superset of it.
   */
  systemCaBundle?: string;
  /** Descriptor on which the plan's host wrapper opens the seccomp filter (seccomp.ts); absent: no filter. */
  seccompFd?: number;
  /** GPU device binds and /sys from buildBwrapGpuArgs (src/sandbox/gpu.ts); absent or [] without spec.gpu. */
  gpuArgs?: string[];
  /** Binds for rootless podman inside (nested-containers.ts); required with spec.nestedContainers. */
  nestedContainerArgs?: string[];
  /**
   * Where bwrap finds a host path when it runs as the unprivileged sandbox identity (Warren as root): the host
   * wrapper mounts workspace, mounts, CA bundle and proxy socket at these staging paths (host-wrapper.ts).
   */
  stagedSources?: Record<string, string>;
  /** Device nodes (bwrap's --dev set) to bind over bwrap's own, from read-only staged binds. */
  readOnlyDevices?: { path: string; source: string }[];
  /** Binds that protect the workspace's protected paths (src/sandbox/protected-paths), after all other mounts. */
  protectionMounts?: ProtectionMount[];
}

/** Choices of whoever assembles the driver (not facts of the host, not per session). */
export interface BwrapSettings {
  /** Let the command create user namespaces of its own (bwrap --disable-userns otherwise). Default false. */
  nestedUserNamespaces?: boolean;
}

const NAMESPACE_ARGS = [
  '--unshare-user',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-net',
  '--unshare-cgroup-try',
  '--die-with-parent',
];

/** A private tmpfs; `--size` (bwrap 0.8+) bounds it, else the kernel's default is half the host's RAM. */
function tmpfsArgs(path: string, mode: string, sizeBytes: number | undefined): string[] {
  const size = sizeBytes === undefined ? [] : ['--size', String(sizeBytes)];
  return ['--perms', mode, ...size, '--tmpfs', path];
}

/**
 * /proc/sys and /proc/sysrq-trigger read-only: bwrap covers them only where they are writable for its setup
 * process, and leaves them writable otherwise. The host's /proc/sys is bound, but each sysctl reads and writes
 * the namespaces of the process that opens it (its own network and UTS namespaces), so values are the sandbox's.
 */
const PROC_READ_ONLY = ['/proc/sys', '/proc/sysrq-trigger'];

function filesystemArgs(spec: NormalizedSandboxSpec, facts: BwrapHostFacts): string[] {
  const source = (path: string) => facts.stagedSources?.[path] ?? path;
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const entry of facts.rootEntries) {
    if (entry.kind === 'symlink') args.push('--symlink', entry.target, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  const { tmpBytes, homeBytes, shmBytes } = spec.limits;
  args.push('--proc', '/proc');
  for (const path of PROC_READ_ONLY) args.push('--ro-bind-try', path, path);
  args.push('--dev', '/dev');
  for (const device of facts.readOnlyDevices ?? []) args.push('--dev-bind', device.source, device.path);
  args.push(...tmpfsArgs('/dev/shm', '1777', shmBytes));
  // After --dev: a device bound before the new /dev would be hidden by it.
  args.push(...(facts.gpuArgs ?? []));
  args.push(...tmpfsArgs(SANDBOX_PATHS.tmp, '1777', tmpBytes));
  args.push(...tmpfsArgs(SANDBOX_PATHS.home, '0700', homeBytes));
  for (const path of facts.etcEntries) args.push('--ro-bind', path, path);
  for (const name of facts.generatedEtcNames)
    args.push('--ro-bind', `${facts.generatedEtcDir}/${name}`, `/etc/${name}`);
  if (spec.nestedContainers) args.push(...(facts.nestedContainerArgs ?? []));
  if (spec.caBundlePath) args.push('--ro-bind', source(spec.caBundlePath), SANDBOX_PATHS.caBundle);
  // Programs that ignore the CA variables (apt, wget, OpenSSL's defaults) then trust Warren's CA too.
  if (spec.caBundlePath && facts.systemCaBundle)
    args.push('--ro-bind', source(spec.caBundlePath), facts.systemCaBundle);
  if (spec.proxy) args.push('--ro-bind', source(spec.proxy.socketPath), SANDBOX_PATHS.proxySocket);
  args.push('--bind', source(spec.workspace), SANDBOX_PATHS.workspace);
  for (const mount of spec.mounts)
    args.push(mount.readonly ? '--ro-bind' : '--bind', source(mount.source), mount.target);
  // In-workspace sources go through the same (staged) workspace as /workspace itself.
  for (const mount of facts.protectionMounts ?? [])
    args.push(
      mount.readonly ? '--ro-bind' : '--bind',
      mount.inWorkspace ? `${source(spec.workspace)}/${mount.source}` : mount.source,
      mount.target,
    );
  // The root tmpfs that bwrap builds stays writable unless remounted: nothing outside the mounts above persists.
  args.push('--remount-ro', '/');
  return args;
}

/**
 * The full bwrap argv (without the bwrap path) for one session. Pure: the same spec and facts give the same argv.
 * The command runs through the launcher script so the proxy bridge is listening before it starts.
 */
export function buildBwrapArgs(
  spec: NormalizedSandboxSpec,
  facts: BwrapHostFacts,
  settings: BwrapSettings = {},
): string[] {
  if (spec.proxy && !facts.socatPath) throw missingSocat();
  if (spec.nestedContainers && !facts.nestedContainerArgs)
    throw new WarrenError('sandbox-failed', 'nested containers were asked for without their host setup');
  const args = [...NAMESPACE_ARGS];
  // Nested user namespaces are the door to most kernel privilege escalations reachable from an unprivileged
  // process; an agent rarely needs them (a nested sandbox, Chromium's own, podman). Off unless asked for.
  if (!settings.nestedUserNamespaces && !spec.nestedContainers) args.push('--disable-userns');
  // --new-session stops TIOCSTI injection into the caller's terminal; in a TTY session the PTY is the sandbox's
  // own, and a new session would cost the command its controlling terminal (no job control, no SIGWINCH).
  if (!spec.tty) args.push('--new-session');
  args.push(
    '--uid',
    String(SANDBOX_USER.uid),
    '--gid',
    String(SANDBOX_USER.gid),
    '--hostname',
    spec.hostname,
  );
  args.push('--cap-drop', 'ALL');
  if (facts.seccompFd !== undefined) args.push('--seccomp', String(facts.seccompFd));
  args.push(...filesystemArgs(spec, facts));
  args.push('--chdir', SANDBOX_PATHS.workspace, '--clearenv');
  for (const [name, value] of Object.entries(environmentOfNormalizedSpec(spec)))
    args.push('--setenv', name, value);

  const launcher = buildLauncherScript({
    proxy: spec.proxy && facts.socatPath ? { port: spec.proxy.port, socatPath: facts.socatPath } : undefined,
    cpuSeconds: spec.limits.cpuSeconds,
    addressSpaceKiB: facts.memoryFallbackKiB,
    processes: facts.processFallback,
    holdTerminalMs: spec.tty ? 100 : undefined,
  });
  args.push('--', '/bin/sh', '-c', launcher, 'warren-launcher', ...spec.command);
  return args;
}

export function missingSocat(): WarrenError {
  return new WarrenError(
    'missing-dependency',
    'socat is not installed under /usr: the sandbox proxy bridge needs it',
    {
      hint: 'apt-get install socat',
    },
  );
}
