import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WarrenError } from '../../../errors/index.js';
import type {
  DriverAvailability,
  LaunchPlan,
  LimitEnforcement,
  SandboxDriver,
  UnenforcedLimit,
} from '../../driver.js';
import type { NormalizedSandboxSpec, SandboxSpec } from '../../spec.js';
import { normalizeSandboxSpec } from '../../spec.js';
import { buildOciGpuPlan, type GpuHostFacts, type OciGpuPlan } from '../../gpu.js';
import { detectGpuHostFacts } from '../../gpu-host.js';
import { resolveCaches } from '../../caches.js';
import { prepareCacheFolders } from '../../caches-store.js';
import { buildGeneratedEtcFiles } from '../bwrap/etc-files.js';
import { buildOciRunArgs } from './args.js';
import {
  engineProcessEnvironment,
  imageExistsArgs,
  leftoverListArgs,
  missingImage,
  parseLeftoverList,
  removeArgs,
  runEngineCommand,
} from './engine-client.js';
import {
  DEFAULT_UID_MAP_BASE,
  type OciEngineName,
  type OciHostFacts,
  type OciRunSettings,
  type UserNamespaceMode,
} from './facts.js';
import { detectHostFacts, ENGINE_CANDIDATES, findExecutable } from './host-facts.js';
import { requireHostPath } from '../../host-paths.js';
import { readOciSeccompProfile } from './seccomp-profile.js';
import { SANDBOX_USER } from '../../constants.js';
import type { HostIdentity } from '../../host-identity.js';
import { prepareWorkspaceProtection, type WorkspaceProtection } from '../../protected-paths/index.js';
import {
  handBackFolder,
  handOverFolder,
  reclaimHandovers,
  type HandoverRecord,
} from '../../workspace-handover.js';

/** The image `warren image build` makes; sessions use it unless the spec or config names another. */
export const DEFAULT_AGENT_IMAGE = 'localhost/warren-agent:latest';

export interface OciDriverOptions {
  /** Default podman. */
  engine?: OciEngineName;
  /** Default: the engine found under /usr/bin, /usr/local/bin or /bin. */
  enginePath?: string;
  /** Image for sessions whose spec names none. Default DEFAULT_AGENT_IMAGE. */
  image?: string;
  /** Default: `keep-id` for rootless podman, `private` for rootful podman, `host` for docker. */
  userNamespace?: UserNamespaceMode;
  /** First host id of the `private` map. Default 2000000000. */
  uidMapBase?: number;
  /** Label value that marks this Warren's containers, so the reconciler never touches another's. Default "default". */
  instance?: string;
  /** Parent folder of per-session temp folders (generated /etc/hosts). Default: the OS temp folder. */
  stateDir?: string;
  /**
   * Where the record of each workspace lent to the agent's host uid (rootful podman) is kept until it is handed
   * back, so that `reconcileLeftovers` can hand back a crashed session's workspace. Default: the state folder.
   */
  handoverDir?: string;
  /** The engine's default seccomp profile that Warren's is built on. Default /usr/share/containers/seccomp.json. */
  seccompProfile?: string;
  /** socat inside the image. Default /usr/bin/socat. */
  socatPath?: string;
  /** Host facts fixed by the caller (tests); detected on first use otherwise. */
  hostFacts?: OciHostFacts;
  /** WARREN_HOME/caches: where shared package caches live. Without it a spec asking for caches is refused. */
  cachesDir?: string;
  /** GPU facts fixed by the caller (tests); read from /dev and the driver folders when a spec asks for a GPU. */
  gpuHostFacts?: GpuHostFacts;
  /** The host environment, for the few variables an engine needs (HOME, XDG_RUNTIME_DIR). Default process.env. */
  hostEnv?: NodeJS.ProcessEnv;
}

/** A container driver also cleans up after crashed Warren processes. */
export interface OciSandboxDriver extends SandboxDriver {
  /**
   * Removes this instance's containers left by sessions that ended without cleanup (a crash, a kill -9).
   * Call it once at start, before any session runs; `keep` protects sessions known to be alive.
   */
  reconcileLeftovers(keep?: (sessionId: string) => boolean): Promise<{ removed: string[] }>;
}

/**
 * The host uid the agent writes as, when Warren must give it the private git view: rootful podman's mapped uid
 * 1000, docker's uid 1000 itself (no user namespace; Warren as root can chown). Undefined with rootless podman,
 * where the agent is Warren's own user.
 */
function agentHostIdentity(
  engine: OciEngineName,
  userNamespace: UserNamespaceMode,
  uidMapBase: number,
): HostIdentity | undefined {
  if (engine === 'podman' && userNamespace === 'private')
    return { uid: uidMapBase + SANDBOX_USER.uid, gid: uidMapBase + SANDBOX_USER.gid };
  if (userNamespace === 'host' && process.getuid?.() === 0)
    return { uid: SANDBOX_USER.uid, gid: SANDBOX_USER.gid };
  return undefined;
}

function defaultUserNamespace(facts: OciHostFacts): UserNamespaceMode {
  if (facts.engine === 'docker') return 'host';
  return facts.rootless ? 'keep-id' : 'private';
}

async function checkHostPaths(spec: NormalizedSandboxSpec): Promise<void> {
  await requireHostPath(spec.workspace, 'The workspace', 'directory');
  for (const mount of spec.mounts) await requireHostPath(mount.source, 'The mount source', 'any');
  if (spec.caBundlePath) await requireHostPath(spec.caBundlePath, 'The CA bundle', 'file');
  if (spec.proxy) await requireHostPath(spec.proxy.socketPath, 'The proxy socket', 'socket');
}

const CONTROLLER_OF_LIMIT = { memoryBytes: 'memory', pids: 'pids', cpus: 'cpu' } as const;

/**
 * The spec without the default limits the engine cannot enforce here (rootless podman without delegated
 * controllers would ignore them silently), and those it dropped. An explicit limit it cannot enforce fails the
 * launch (fail closed).
 */
function enforceableSpec(
  spec: NormalizedSandboxSpec,
  facts: OciHostFacts,
): { spec: NormalizedSandboxSpec; unenforced: UnenforcedLimit[] } {
  const limits = { ...spec.limits };
  const unenforced: UnenforcedLimit[] = [];
  for (const [limit, controller] of Object.entries(CONTROLLER_OF_LIMIT) as [
    keyof typeof CONTROLLER_OF_LIMIT,
    string,
  ][]) {
    const value = limits[limit];
    if (value === undefined || facts.cgroupControllers.includes(controller)) continue;
    const why = facts.rootless
      ? facts.cgroupVersion === 1
        ? 'rootless podman cannot set cgroup limits on a cgroup v1 host'
        : `the ${controller} controller is not delegated to this user`
      : `the ${controller} cgroup controller is not available`;
    if (spec.defaultedLimits.includes(limit)) {
      delete limits[limit];
      unenforced.push({ limit, value, reason: why });
      continue;
    }
    throw new WarrenError(
      'sandbox-failed',
      `limits.${limit} cannot be enforced by ${facts.engine} here: ${why}`,
      {
        hint: facts.rootless
          ? 'Delegate the controller (systemd: Delegate=memory pids cpu for user@.service) on a cgroup v2 host, run Warren as root, or remove the limit.'
          : 'Enable the controller, or remove the limit.',
      },
    );
  }
  return { spec: { ...spec, limits }, unenforced };
}

function enforcementOf(spec: NormalizedSandboxSpec, facts: OciHostFacts): LimitEnforcement[] {
  const cgroup = `cgroup v${facts.cgroupVersion}`;
  const { memoryBytes, pids, cpus, cpuSeconds, tmpBytes, homeBytes, shmBytes } = spec.limits;
  const limits: LimitEnforcement[] = [];
  const add = (limit: LimitEnforcement['limit'], value: number | undefined, mechanism: string) => {
    if (value !== undefined) limits.push({ limit, value, mechanism });
  };
  add('memoryBytes', memoryBytes, `${facts.engine} --memory/--memory-swap (${cgroup} memory controller)`);
  add('pids', pids, `${facts.engine} --pids-limit (${cgroup} pids controller)`);
  add('cpus', cpus, `${facts.engine} --cpus (${cgroup} CFS quota)`);
  add('cpuSeconds', cpuSeconds, 'RLIMIT_CPU per process (ulimit -t)');
  add('tmpBytes', tmpBytes, `tmpfs size of /tmp (${facts.engine} --tmpfs size=)`);
  add('homeBytes', homeBytes, `tmpfs size of HOME (${facts.engine} --tmpfs size=)`);
  add('shmBytes', shmBytes, `tmpfs size of /dev/shm (${facts.engine} --shm-size)`);
  return limits;
}

export function createOciDriver(options: OciDriverOptions = {}): OciSandboxDriver {
  const engine = options.engine ?? 'podman';
  const hostEnv = options.hostEnv ?? process.env;
  const environment = engineProcessEnvironment(hostEnv);
  const instance = options.instance ?? 'default';
  let factsPromise: Promise<OciHostFacts> | undefined;
  const verifiedImages = new Set<string>();

  const enginePath = async () =>
    findExecutable(options.enginePath ? [options.enginePath] : ENGINE_CANDIDATES[engine]);
  const missingEngine = () =>
    new WarrenError(
      'missing-dependency',
      `${engine} is not installed: apt-get install ${engine === 'podman' ? 'podman' : 'docker.io'}`,
      {
        hint: `apt-get install ${engine === 'podman' ? 'podman' : 'docker.io'}`,
      },
    );
  const requireEngine = async () => {
    const path = await enginePath();
    if (!path) throw missingEngine();
    return path;
  };
  const hostFacts = async (path: string) => {
    if (options.hostFacts) return options.hostFacts;
    factsPromise ??= detectHostFacts(engine, path);
    return factsPromise.catch((error: unknown) => {
      factsPromise = undefined;
      throw new WarrenError(
        'driver-unavailable',
        `${engine} does not work on this host: ${(error as Error).message}`,
        {
          hint:
            engine === 'docker'
              ? 'Start the docker daemon, or use --driver podman.'
              : `Run \`${engine} info\` to see what is wrong.`,
        },
      );
    });
  };

  async function available(): Promise<DriverAvailability> {
    const path = await enginePath();
    if (!path)
      return {
        ok: false,
        reason: `${engine} is not installed`,
        install: `apt-get install ${engine === 'podman' ? 'podman' : 'docker.io'}`,
      };
    if (engine === 'docker') {
      const probe = await runEngineCommand(
        path,
        ['version', '--format', '{{.Server.Version}}'],
        environment,
        15_000,
      );
      if (probe.status !== 0)
        return {
          ok: false,
          reason: `the docker daemon is not reachable (${probe.stderr.trim().split('\n')[0]})`,
          install: 'start dockerd (systemctl start docker) or use --driver podman',
        };
    }
    try {
      await hostFacts(path);
    } catch (error) {
      return { ok: false, reason: (error as Error).message, install: `apt-get install ${engine} runc` };
    }
    return { ok: true };
  }

  async function requireImage(path: string, image: string): Promise<void> {
    if (verifiedImages.has(image)) return;
    const result = await runEngineCommand(path, imageExistsArgs(engine, image), environment);
    if (result.status !== 0) throw missingImage(engine, image);
    verifiedImages.add(image);
  }

  async function plan(input: SandboxSpec): Promise<LaunchPlan> {
    const requested = normalizeSandboxSpec(input);
    if (requested.nestedContainers)
      throw new WarrenError(
        'invalid-argument',
        `Nested containers are not supported with the ${engine} driver`,
        { hint: 'Use the bwrap driver (--driver bwrap) for a session that runs containers of its own.' },
      );
    const path = await requireEngine();
    const facts = await hostFacts(path);
    const { spec, unenforced } = enforceableSpec(requested, facts);
    await checkHostPaths(spec);
    const gpu: OciGpuPlan | undefined = spec.gpu
      ? buildOciGpuPlan(options.gpuHostFacts ?? (await detectGpuHostFacts()), engine)
      : undefined;
    const caches = resolveCaches(spec.caches, options.cachesDir);
    await prepareCacheFolders(caches.mounts);
    const image = spec.image ?? options.image ?? DEFAULT_AGENT_IMAGE;
    await requireImage(path, image);

    const stateDir = await mkdtemp(join(options.stateDir ?? tmpdir(), `warren-oci-${spec.sessionId}-`));
    const containerName = `warren-${spec.sessionId}-${randomBytes(4).toString('hex')}`;
    let cleaned: Promise<void> | undefined;
    const handoverDir = options.handoverDir ?? stateDir;
    let handover: HandoverRecord | undefined;
    let protection: WorkspaceProtection | undefined;
    const cleanup = async () => {
      // Before the workspace is handed back: what it writes belongs to the agent's uid until then.
      await protection?.settle();
      // --rm removes a container that exited; this removes one whose engine client was killed first.
      await runEngineCommand(path, removeArgs(engine, [containerName]), environment);
      if (handover) await handBackFolder(handover, handoverDir);
      await rm(stateDir, { recursive: true, force: true });
    };
    try {
      const hosts = buildGeneratedEtcFiles(spec.hostname).find((file) => file.name === 'hosts');
      await writeFile(join(stateDir, 'hosts'), hosts?.content ?? '127.0.0.1\tlocalhost\n', { mode: 0o644 });
      const seccompProfilePath = join(stateDir, 'seccomp.json');
      await writeFile(seccompProfilePath, await readOciSeccompProfile(options.seccompProfile), {
        mode: 0o644,
      });
      const userNamespace = options.userNamespace ?? defaultUserNamespace(facts);
      const uidMapBase = options.uidMapBase ?? DEFAULT_UID_MAP_BASE;
      // Rootful podman: the agent is host uid BASE+1000; the workspace is lent to it and handed back at the end.
      if (engine === 'podman' && userNamespace === 'private') {
        const agent = uidMapBase + SANDBOX_USER.uid;
        handover = await handOverFolder(
          spec.workspace,
          { uid: agent, gid: agent },
          {
            dir: handoverDir,
            sessionId: spec.sessionId,
          },
        );
      }
      protection = await prepareWorkspaceProtection({
        workspace: spec.workspace,
        stateFolder: stateDir,
        sessionId: spec.sessionId,
        setting: spec.protectedPaths,
        owner: agentHostIdentity(engine, userNamespace, uidMapBase),
      });
      const settings: OciRunSettings = {
        image,
        containerName,
        instance,
        userNamespace,
        uidMapBase,
        workspaceLent: handover !== undefined,
        seccompProfilePath,
        stateDir,
        socatPath: options.socatPath ?? '/usr/bin/socat',
        gpuArgs: gpu?.args ?? [],
        cacheMounts: caches.mounts,
        protectionMounts: protection?.mounts ?? [],
      };
      const { args, launcher } = buildOciRunArgs(spec, facts, settings, {
        ...caches.environment,
        ...gpu?.environment,
      });
      await writeFile(join(stateDir, 'launcher.sh'), launcher, { mode: 0o644 });
      // Last: lending the workspace above changed every ctime in it, and later changes count as the session's.
      await protection?.markStarted({ afterOwnChanges: handover !== undefined });
      const settle = protection?.settle;
      return {
        file: path,
        args,
        env: { ...environment },
        cwd: stateDir,
        limits: enforcementOf(spec, facts),
        unenforced,
        ...(settle ? { settleProtectedPaths: settle } : {}),
        cleanup: () => (cleaned ??= cleanup()),
      };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  async function reconcileLeftovers(keep: (sessionId: string) => boolean = () => false) {
    if (options.handoverDir) await reclaimHandovers(options.handoverDir, keep);
    const path = await requireEngine();
    const listed = await runEngineCommand(path, leftoverListArgs(engine, instance), environment);
    if (listed.status !== 0)
      throw new WarrenError('sandbox-failed', `Could not list leftover containers: ${listed.stderr.trim()}`, {
        hint: `Run \`${engine} ps -a --filter label=warren.instance=${instance}\` to see what is wrong.`,
      });
    const leftovers = parseLeftoverList(listed.stdout).filter((entry) => !keep(entry.sessionId));
    if (leftovers.length === 0) return { removed: [] };
    const ids = leftovers.map((entry) => entry.id);
    const removal = await runEngineCommand(path, removeArgs(engine, ids), environment);
    if (removal.status !== 0)
      throw new WarrenError(
        'sandbox-failed',
        `Could not remove leftover containers: ${removal.stderr.trim()}`,
        {
          hint: `Remove them by hand: ${engine} rm -f ${ids.join(' ')}`,
        },
      );
    return { removed: ids };
  }

  return { name: engine, available, plan, reconcileLeftovers };
}
