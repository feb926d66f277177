import { execFile } from 'node:child_process';
import { access, constants, readFile, statfs } from 'node:fs/promises';
import type { OciEngineName, OciHostFacts } from './facts.js';

/** statfs(2) magic of a cgroup2 file system mounted at /sys/fs/cgroup (pure v2, no v1 hierarchies). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Ceiling for the open files limit handed to containers: podman's own default, when the host allows it. */
const MAX_OPEN_FILES = 1_048_576;

export const ENGINE_CANDIDATES: Record<OciEngineName, string[]> = {
  podman: ['/usr/bin/podman', '/usr/local/bin/podman', '/bin/podman'],
  docker: ['/usr/bin/docker', '/usr/local/bin/docker', '/bin/docker'],
};

const INIT_CANDIDATES = [
  '/usr/libexec/podman/catatonit',
  '/usr/bin/catatonit',
  '/usr/libexec/catatonit/catatonit',
];
const RUNC_CANDIDATES = ['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc', '/usr/local/sbin/runc'];

export async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export async function findExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate;
  return undefined;
}

/** Hard limits from /proc/self/limits: `Max open files  20000  20000  files`. */
export function parseHardLimits(procLimits: string): { openFiles?: number; processes?: number } {
  const hardOf = (label: string): number | undefined => {
    const line = procLimits.split('\n').find((candidate) => candidate.startsWith(label));
    const hard = line?.slice(label.length).trim().split(/\s+/)[1];
    if (hard === undefined) return undefined;
    return hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
  };
  return { openFiles: hardOf('Max open files'), processes: hardOf('Max processes') };
}

/**
 * The limits to pass with --ulimit. Podman's defaults (1048576 files, and for nproc more than the kernel's pid_max,
 * to which podman clamps its own limit) fail with "error setting rlimit … operation not permitted" on hosts
 * whose hard limits are lower, so the container gets at most what this process and the kernel allow.
 */
export function chooseUlimits(
  hard: { openFiles?: number; processes?: number },
  pidMax: number | undefined,
): { openFiles: number; processes: number } {
  const openFiles = Math.min(hard.openFiles ?? MAX_OPEN_FILES, MAX_OPEN_FILES);
  const processes = Math.min(hard.processes ?? 32_768, pidMax ?? 32_768, 4_194_304);
  return { openFiles, processes };
}

/**
 * `--runtime runc` where the engine's default is crun and cgroups are v1 or hybrid: crun 1.x cannot create
 * containers on a hybrid hierarchy, runc can. On cgroup v2 the default stays.
 */
export function chooseRuntime(
  defaultRuntime: string | undefined,
  cgroupVersion: 1 | 2,
  runcPresent: boolean,
): string | undefined {
  if (cgroupVersion === 2 || defaultRuntime === 'runc') return undefined;
  return runcPresent ? 'runc' : undefined;
}

/** dockerd runs as root and sets these on v1, hybrid and v2 hosts. */
const DOCKER_CONTROLLERS = ['cpu', 'memory', 'pids'];

/** `podman info --format '{{.Host.OCIRuntime.Name}} {{json .Host.CgroupControllers}}'`, e.g. `runc ["cpu","memory"]`. */
export function parseEngineInfo(output: string): {
  defaultRuntime: string | undefined;
  controllers: string[];
} {
  const space = output.indexOf(' ');
  const name = (space < 0 ? output : output.slice(0, space)).trim();
  let controllers: string[] = [];
  try {
    const parsed: unknown = JSON.parse(space < 0 ? '[]' : output.slice(space + 1));
    if (Array.isArray(parsed))
      controllers = parsed.filter((entry): entry is string => typeof entry === 'string');
  } catch {
    controllers = [];
  }
  return { defaultRuntime: name || undefined, controllers };
}

function runEngine(enginePath: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(enginePath, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(stderr.trim() || error.message)) : resolve(stdout),
    ),
  );
}

async function cgroupVersion(): Promise<1 | 2> {
  const stats = await statfs('/sys/fs/cgroup').catch(() => undefined);
  return stats?.type === CGROUP2_SUPER_MAGIC ? 2 : 1;
}

/** Reads everything buildOciRunArgs needs about this host; runs `podman info` once. */
export async function detectHostFacts(engine: OciEngineName, enginePath: string): Promise<OciHostFacts> {
  const [limitsText, pidMaxText, version] = await Promise.all([
    readFile('/proc/self/limits', 'utf8').catch(() => ''),
    readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => ''),
    cgroupVersion(),
  ]);
  const pidMax = Number(pidMaxText.trim()) || undefined;
  const ulimits = chooseUlimits(parseHardLimits(limitsText), pidMax);
  const rootless = process.getuid?.() !== 0;
  if (engine === 'docker') {
    // The daemon picks the runtime and init (docker-init) and owns the containers' limits.
    return {
      engine,
      rootless: false,
      runtime: undefined,
      init: true,
      cgroupVersion: version,
      cgroupControllers: DOCKER_CONTROLLERS,
      ...limitsOf(ulimits),
    };
  }
  const info = await runEngine(enginePath, [
    'info',
    '--format',
    '{{.Host.OCIRuntime.Name}} {{json .Host.CgroupControllers}}',
  ]);
  const { defaultRuntime, controllers } = parseEngineInfo(info.trim());
  const runc = (await findExecutable(RUNC_CANDIDATES)) !== undefined;
  return {
    engine,
    rootless,
    runtime: chooseRuntime(defaultRuntime, version, runc),
    cgroupControllers: controllers,
    init: (await findExecutable(INIT_CANDIDATES)) !== undefined,
    cgroupVersion: version,
    ...limitsOf(ulimits),
  };
}

function limitsOf(ulimits: { openFiles: number; processes: number }) {
  return { openFilesLimit: ulimits.openFiles, processLimit: ulimits.processes };
}
