import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WarrenError } from '../../../errors/index.js';
import type { DriverAvailability, LaunchPlan, SandboxDriver } from '../../driver.js';
import {
  locateCgroups,
  parseCgroupMemberships,
  parseCgroupMounts,
  type CgroupLocation,
} from '../../limits/cgroup-discovery.js';
import { createSessionCgroups, type SessionCgroups } from '../../limits/cgroup-setup.js';
import { buildBwrapGpuArgs, type GpuHostFacts } from '../../gpu.js';
import { detectGpuHostFacts } from '../../gpu-host.js';
import { resolveCaches, withCacheMounts } from '../../caches.js';
import { prepareCacheFolders } from '../../caches-store.js';
import type { NormalizedSandboxSpec, SandboxSpec } from '../../spec.js';
import { normalizeSandboxSpec } from '../../spec.js';
import { buildBwrapArgs, missingSocat, type RootEntry } from './args.js';
import { enforcementOf } from './enforcement.js';
import { buildGeneratedEtcFiles } from './etc-files.js';
import { buildNestedContainerArgs, prepareNestedContainers } from './nested-containers.js';
import { buildSeccompProgram, encodeSeccompProgram, seccompArchitectureOf } from './seccomp.js';
import {
  BWRAP_CANDIDATES,
  findExecutable,
  isExecutable,
  readRootEntries,
  readSafeEtcEntries,
  readSystemCaBundle,
  SOCAT_CANDIDATES,
} from './host-facts.js';
import { requireHostPath } from '../../host-paths.js';
import { sandboxHostIdentity, type HostIdentity } from '../../host-identity.js';
import { wrapForHost, type IdentityDrop } from '../../host-wrapper.js';
import {
  handBackFolder,
  handOverFolder,
  reclaimHandovers,
  type HandoverRecord,
} from '../../workspace-handover.js';
import { giveCachesTo, prepareRootStaging } from './root-staging.js';
import { markStateFolder, reclaimStateFolders, stateFolderPrefix } from './state-folders.js';
import { prepareWorkspaceProtection, type WorkspaceProtection } from '../../protected-paths/index.js';

export interface BwrapDriverOptions {
  /** Default: the first of /usr/bin/bwrap, /usr/local/bin/bwrap, /bin/bwrap. */
  bwrapPath?: string;
  /** Default: /usr/bin/socat or /usr/local/bin/socat. Must lie under /usr so that it exists inside. */
  socatPath?: string;
  /** Parent folder of the per-session temp folders (generated /etc files). Default: the OS temp folder. */
  stateDir?: string;
  /**
   * Parents for session cgroups, by controller (v1) or as one v2 folder. Default: this process's own cgroups,
   * read from /proc/self/cgroup. Set it where an administrator delegated a subtree to Warren.
   */
  cgroupLocation?: CgroupLocation;
  /** GPU facts fixed by the caller (tests); read from /dev and the driver folders when a spec asks for a GPU. */
  gpuHostFacts?: GpuHostFacts;
  /**
   * Allow user namespaces inside the sandbox (nested sandboxes, Chromium's sandbox) for every session. Default
   * false; a spec asking for nestedContainers allows them for that session alone.
   */
  nestedUserNamespaces?: boolean;
  /** Install the seccomp filter of seccomp.ts (x86_64 and aarch64 hosts). Default true. */
  syscallFilter?: boolean;
  /** WARREN_HOME/caches: where shared package caches live. Without it a spec asking for caches is refused. */
  cachesDir?: string;
  /**
   * The unprivileged host uid/gid sandboxes run as when Warren runs as root (host-identity.ts). Default
   * 2000001000, the uid rootful podman gives the agent.
   */
  rootIdentity?: HostIdentity;
  /**
   * Where the record of each workspace lent to the sandbox identity is kept until it is handed back, so that
   * `reconcileLeftovers` can hand back a crashed session's workspace (WARREN_HOME/run/handover). Default: the
   * session's state folder (nothing to reclaim after a crash).
   */
  handoverDir?: string;
  /**
   * Names this Warren instance (its WARREN_HOME): written into each session's state folder, so that
   * `reconcileLeftovers` removes a crashed session's folder only when it is this instance's (several
   * WARREN_HOMEs may share /tmp). Absent: state folders are left alone after a crash.
   */
  owner?: string;
}

/** The environment of the bwrap process itself; the command's environment is set with --clearenv/--setenv. */
const BWRAP_PROCESS_ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/** The descriptor bwrap reads the seccomp filter from; opened by the plan's host-side shell. */
const SECCOMP_FD = 3;

/** coreutils env(1); /bin/env is the same file on merged-/usr systems. */
const ENV_PATH = '/usr/bin/env';

/** Host programs the wrapper runs (util-linux and bash); each driver looks them up once it has found them. */
const HOST_TOOLS = {
  bash: { candidates: ['/usr/bin/bash', '/bin/bash'], install: 'apt-get install bash' },
  unshare: { candidates: ['/usr/bin/unshare', '/bin/unshare'], install: 'apt-get install util-linux' },
  setpriv: { candidates: ['/usr/bin/setpriv', '/bin/setpriv'], install: 'apt-get install util-linux' },
  mount: { candidates: ['/usr/bin/mount', '/bin/mount'], install: 'apt-get install mount' },
} as const;

async function findHostTool(name: keyof typeof HOST_TOOLS): Promise<string> {
  const tool = HOST_TOOLS[name];
  const path = await findExecutable(tool.candidates);
  if (!path)
    throw new WarrenError(
      'missing-dependency',
      `${name} is not installed: the sandbox's host wrapper needs it`,
      {
        hint: tool.install,
      },
    );
  return path;
}

function missingBwrap(): WarrenError {
  return new WarrenError('missing-dependency', 'bubblewrap is not installed: apt-get install bubblewrap', {
    hint: 'apt-get install bubblewrap',
  });
}

function refuseUnsupported(spec: NormalizedSandboxSpec): void {
  if (spec.limits.cpus !== undefined && !spec.defaultedLimits.includes('cpus'))
    throw new WarrenError('invalid-argument', 'The bwrap driver cannot limit the CPU share (limits.cpus)', {
      hint: 'Use --driver podman (or docker) for a CPU share, or limit CPU time per process with cpuSeconds.',
    });
  if (spec.image !== undefined)
    throw new WarrenError(
      'invalid-argument',
      `The bwrap driver runs the host's /usr and cannot use the image ${spec.image}`,
      {
        hint: 'Use --driver podman (or docker) for images, or start the session without an image.',
      },
    );
}

async function checkHostPaths(spec: NormalizedSandboxSpec): Promise<void> {
  await requireHostPath(spec.workspace, 'The workspace', 'directory');
  for (const mount of spec.mounts) await requireHostPath(mount.source, 'The mount source', 'any');
  if (spec.caBundlePath) await requireHostPath(spec.caBundlePath, 'The CA bundle', 'file');
  if (spec.proxy) await requireHostPath(spec.proxy.socketPath, 'The proxy socket', 'socket');
}

/** The programs rootless podman runs inside; they come from the host's /usr, which the sandbox shows read-only. */
const NESTED_CONTAINER_PROGRAMS = ['/usr/bin/podman', '/usr/bin/runc', '/usr/bin/conmon'];

async function requireNestedContainerPrograms(): Promise<void> {
  for (const program of NESTED_CONTAINER_PROGRAMS)
    if (!(await isExecutable(program)))
      throw new WarrenError(
        'missing-dependency',
        `Nested containers need ${program} on the host (the sandbox runs the host's /usr)`,
        { hint: 'apt-get install podman runc conmon' },
      );
}

async function ownCgroupLocation(): Promise<CgroupLocation> {
  const [mountinfo, membership] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8'),
    readFile('/proc/self/cgroup', 'utf8'),
  ]);
  return locateCgroups(parseCgroupMounts(mountinfo), parseCgroupMemberships(membership));
}

async function createCgroupsFor(
  spec: NormalizedSandboxSpec,
  configured: CgroupLocation | undefined,
): Promise<SessionCgroups | undefined> {
  const { memoryBytes, pids } = spec.limits;
  if (memoryBytes === undefined && pids === undefined) return undefined;
  const location = configured ?? (await ownCgroupLocation());
  const name = `${spec.sessionId}-${randomBytes(4).toString('hex')}`;
  return createSessionCgroups({ limits: { memoryBytes, pids }, location, name });
}

export function createBwrapDriver(options: BwrapDriverOptions = {}): SandboxDriver {
  const bwrapPath = async () => options.bwrapPath ?? (await findExecutable(BWRAP_CANDIDATES));
  const socatPath = async () => findExecutable(options.socatPath ? [options.socatPath] : SOCAT_CANDIDATES);
  // The host's top-level layout and /etc allow-list entries are read once per driver: ~30 stat calls per session.
  let layout:
    | Promise<{ rootEntries: RootEntry[]; etcEntries: string[]; systemCaBundle: string | undefined }>
    | undefined;
  // A found tool is remembered; a missing one is looked for again, so that installing it needs no restart.
  const tools = new Map<keyof typeof HOST_TOOLS, Promise<string>>();
  const hostTool = (name: keyof typeof HOST_TOOLS): Promise<string> => {
    let found = tools.get(name);
    if (!found) {
      found = findHostTool(name);
      tools.set(name, found);
      found.catch(() => tools.delete(name));
    }
    return found;
  };
  const hostLayout = () =>
    (layout ??= Promise.all([readRootEntries(), readSafeEtcEntries()]).then(
      async ([rootEntries, etcEntries]) => ({
        rootEntries,
        etcEntries,
        systemCaBundle: await readSystemCaBundle(etcEntries),
      }),
    ));

  async function available(): Promise<DriverAvailability> {
    const bwrap = await bwrapPath();
    if (!bwrap || !(await isExecutable(bwrap)))
      return { ok: false, reason: 'bubblewrap is not installed', install: 'apt-get install bubblewrap' };
    if (!(await socatPath()))
      return {
        ok: false,
        reason: 'socat (the sandbox proxy bridge) is not installed',
        install: 'apt-get install socat',
      };
    return { ok: true };
  }

  async function plan(input: SandboxSpec): Promise<LaunchPlan> {
    const requested = normalizeSandboxSpec(input);
    refuseUnsupported(requested);
    const caches = resolveCaches(requested.caches, options.cachesDir);
    const spec = withCacheMounts(requested, caches);
    const bwrap = await bwrapPath();
    if (!bwrap || !(await isExecutable(bwrap))) throw missingBwrap();
    const socat = spec.proxy ? await socatPath() : undefined;
    if (spec.proxy && (!socat || !socat.startsWith('/usr/'))) throw missingSocat();
    await prepareCacheFolders(caches.mounts);
    await checkHostPaths(spec);

    const stateFolder = await mkdtemp(join(options.stateDir ?? tmpdir(), stateFolderPrefix(spec.sessionId)));
    const identity = sandboxHostIdentity(options.rootIdentity);
    const handoverDir = options.handoverDir ?? stateFolder;
    let cgroups: SessionCgroups | undefined;
    let nested: Awaited<ReturnType<typeof prepareNestedContainers>> | undefined;
    let handover: HandoverRecord | undefined;
    let protection: WorkspaceProtection | undefined;
    const cleanup = async () => {
      // Before the workspace is handed back: what it writes belongs to the identity until then.
      await protection?.settle();
      await cgroups?.remove();
      await nested?.remove();
      if (handover) await handBackFolder(handover, handoverDir);
      await rm(stateFolder, { recursive: true, force: true });
    };
    try {
      if (options.owner !== undefined) await markStateFolder(stateFolder, options.owner);
      const etcFiles = buildGeneratedEtcFiles(spec.hostname);
      await Promise.all(
        etcFiles.map((file) => writeFile(join(stateFolder, file.name), file.content, { mode: 0o644 })),
      );
      protection = await prepareWorkspaceProtection({
        workspace: spec.workspace,
        stateFolder,
        sessionId: spec.sessionId,
        setting: spec.protectedPaths,
        owner: identity,
      });
      const seccompArchitecture =
        options.syscallFilter === false ? undefined : seccompArchitectureOf(process.arch);
      const seccompPath = join(stateFolder, 'seccomp.bpf');
      if (seccompArchitecture)
        await writeFile(seccompPath, encodeSeccompProgram(buildSeccompProgram(seccompArchitecture)), {
          mode: 0o600,
        });
      cgroups = await createCgroupsFor(spec, options.cgroupLocation);
      const { limits, unenforced, memoryFallbackKiB, processFallback } = enforcementOf(spec, cgroups, {
        // As root the sandbox runs as ROOT_SANDBOX_IDENTITY (host-identity.ts), never as host root.
        sandboxUserIsHostRoot: identity === undefined && process.getuid?.() === 0,
      });
      if (spec.nestedContainers) {
        await requireNestedContainerPrograms();
        const location = options.cgroupLocation ?? (await ownCgroupLocation());
        nested = await prepareNestedContainers(stateFolder, spec.sessionId, location);
      }
      let drop: IdentityDrop | undefined;
      let staging: Awaited<ReturnType<typeof prepareRootStaging>> | undefined;
      if (identity) {
        const [unsharePath, setprivPath, mountPath] = await Promise.all([
          hostTool('unshare'),
          hostTool('setpriv'),
          hostTool('mount'),
        ]);
        staging = await prepareRootStaging(stateFolder, spec, identity);
        await giveCachesTo(
          caches.mounts.map((mount) => mount.source),
          identity,
        );
        handover = await handOverFolder(spec.workspace, identity, {
          dir: handoverDir,
          sessionId: spec.sessionId,
        });
        drop = { identity, mounts: staging.mounts, unsharePath, setprivPath, mountPath };
      }
      const args = buildBwrapArgs(
        spec,
        {
          ...(await hostLayout()),
          ...(staging
            ? { stagedSources: staging.stagedSources, readOnlyDevices: staging.readOnlyDevices }
            : {}),
          generatedEtcDir: stateFolder,
          generatedEtcNames: etcFiles.map((file) => file.name),
          socatPath: socat,
          memoryFallbackKiB,
          processFallback,
          seccompFd: seccompArchitecture ? SECCOMP_FD : undefined,
          gpuArgs: spec.gpu ? buildBwrapGpuArgs(options.gpuHostFacts ?? (await detectGpuHostFacts())) : [],
          ...(nested ? { nestedContainerArgs: buildNestedContainerArgs(nested.host) } : {}),
          protectionMounts: protection?.mounts ?? [],
        },
        { nestedUserNamespaces: options.nestedUserNamespaces },
      );
      // bwrap's own process is pid 1 inside and its environ is readable there: `env -i` makes sure it holds only
      // BWRAP_PROCESS_ENV even when a caller spawns the plan with its own environment (node-pty's default).
      const clearedEnvironment = Object.entries(BWRAP_PROCESS_ENV).map(([name, value]) => `${name}=${value}`);
      const command = wrapForHost(
        { file: ENV_PATH, args: ['-i', ...clearedEnvironment, bwrap, ...args] },
        {
          bashPath: await hostTool('bash'),
          procsFiles: cgroups?.procsFiles ?? [],
          inputFiles: seccompArchitecture ? [{ fd: SECCOMP_FD, path: seccompPath }] : [],
          drop,
        },
      );
      let cleaned: Promise<void> | undefined;
      // Last: lending the workspace above changed every ctime in it, and later changes count as the session's.
      await protection?.markStarted({ afterOwnChanges: handover !== undefined });
      const settle = protection?.settle;
      return {
        ...command,
        env: { ...BWRAP_PROCESS_ENV },
        limits,
        unenforced,
        ...(settle ? { settleProtectedPaths: settle } : {}),
        cleanup: () => (cleaned ??= cleanup()),
      };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  /**
   * Hands back the workspaces that sessions of a crashed Warren still hold (Warren as root only), then
   * removes those sessions' state folders where they carry this instance's mark (`owner`).
   */
  async function reconcileLeftovers(keep: (sessionId: string) => boolean = () => false) {
    const handedBack = options.handoverDir ? await reclaimHandovers(options.handoverDir, keep) : [];
    const folders =
      options.owner !== undefined
        ? await reclaimStateFolders(options.stateDir ?? tmpdir(), options.owner, keep)
        : [];
    return { removed: [...new Set([...handedBack, ...folders])] };
  }

  return { name: 'bwrap', available, plan, reconcileLeftovers };
}
