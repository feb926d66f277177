import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LimitEnforcement } from '../driver.js';
import type { CgroupLocation } from './cgroup-discovery.js';

type CgroupLimit = 'memoryBytes' | 'pids';

/** The cgroups made for one session. The caller owns them and must call remove() after the sandbox exits. */
export interface SessionCgroups {
  /** cgroup.procs files that the sandbox's first process writes its own pid into before anything else runs. */
  procsFiles: string[];
  enforcement: LimitEnforcement[];
  /** Requested limits no cgroup could take, with why: the caller enforces them otherwise or refuses. */
  unenforced: { limit: CgroupLimit; value: number; reason: string }[];
  remove(): Promise<void>;
}

export interface CgroupRequest {
  limits: { memoryBytes?: number; pids?: number };
  location: CgroupLocation;
  /** Unique folder name for this session's cgroups (session id + random suffix). */
  name: string;
}

const CONTROLLER_OF: Record<CgroupLimit, string> = { memoryBytes: 'memory', pids: 'pids' };

/** One level only: recursive mkdir can spin forever on cgroup and proc file systems that answer ENOENT. */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** v1 files per limit; memsw keeps a memory-limited sandbox from escaping into swap where swap is accounted. */
function v1Settings(limit: CgroupLimit, value: number): { file: string; value: string; optional: boolean }[] {
  if (limit === 'pids') return [{ file: 'pids.max', value: String(value), optional: false }];
  return [
    { file: 'memory.limit_in_bytes', value: String(value), optional: false },
    { file: 'memory.memsw.limit_in_bytes', value: String(value), optional: true },
  ];
}

function v2Settings(limit: CgroupLimit, value: number): { file: string; value: string; optional: boolean }[] {
  if (limit === 'pids') return [{ file: 'pids.max', value: String(value), optional: false }];
  return [
    { file: 'memory.max', value: String(value), optional: false },
    { file: 'memory.swap.max', value: '0', optional: true },
  ];
}

async function applySettings(folder: string, settings: { file: string; value: string; optional: boolean }[]) {
  for (const setting of settings) {
    const path = join(folder, setting.file);
    if (setting.optional && !(await exists(path))) continue;
    await writeFile(path, setting.value);
  }
}

/** Kills what is left in a session cgroup, then removes it; retries while the kernel finishes the kills. */
async function removeCgroupFolder(folder: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const procs = await readFile(join(folder, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    try {
      await rmdir(folder);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** v2 needs the controllers enabled in every ancestor's subtree_control; fails where the ancestor has processes. */
async function enableV2Controllers(parent: string, controllers: string[]): Promise<void> {
  const available = (await readFile(join(parent, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
  const missing = controllers.filter((controller) => !available.includes(controller));
  if (missing.length > 0) throw new Error(`controllers ${missing.join(', ')} are not delegated to ${parent}`);
  await writeFile(join(parent, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
}

export async function createSessionCgroups(request: CgroupRequest): Promise<SessionCgroups> {
  const created: string[] = [];
  const result: SessionCgroups = {
    procsFiles: [],
    enforcement: [],
    unenforced: [],
    remove: async () => {
      for (const folder of created.reverse()) await removeCgroupFolder(folder);
    },
  };
  const requested = (Object.keys(CONTROLLER_OF) as CgroupLimit[]).filter(
    (limit) => request.limits[limit] !== undefined,
  );
  const v2Limits: CgroupLimit[] = [];
  try {
    for (const limit of requested) {
      const value = request.limits[limit] as number;
      const v1Parent = request.location.v1[CONTROLLER_OF[limit]];
      if (!v1Parent) {
        v2Limits.push(limit);
        continue;
      }
      const folder = join(v1Parent, 'warren', request.name);
      try {
        await makeFolder(join(v1Parent, 'warren'));
        await mkdir(folder);
        created.push(folder);
        await applySettings(folder, v1Settings(limit, value));
        result.procsFiles.push(join(folder, 'cgroup.procs'));
        result.enforcement.push({
          limit,
          value,
          mechanism: `cgroup v1 ${CONTROLLER_OF[limit]} at ${folder}`,
        });
      } catch (error) {
        result.unenforced.push({ limit, value, reason: `cgroup v1 ${folder}: ${describeError(error)}` });
      }
    }
    if (v2Limits.length > 0) await createV2Cgroup(request, v2Limits, created, result);
  } catch (error) {
    await result.remove();
    throw error;
  }
  return result;
}

async function createV2Cgroup(
  request: CgroupRequest,
  limits: CgroupLimit[],
  created: string[],
  result: SessionCgroups,
): Promise<void> {
  const own = request.location.v2;
  const controllers = limits.map((limit) => CONTROLLER_OF[limit]);
  const valueOf = (limit: CgroupLimit) => request.limits[limit] as number;
  if (!own) {
    for (const limit of limits)
      result.unenforced.push({
        limit,
        value: valueOf(limit),
        reason: `no cgroup hierarchy offers the ${CONTROLLER_OF[limit]} controller`,
      });
    return;
  }
  const reasons: string[] = [];
  for (const base of await v2Bases(own)) {
    const parent = join(base, 'warren');
    const folder = join(parent, request.name);
    try {
      // Below our own cgroup this fails while it holds processes ("no internal processes"), unless it is the root.
      if (base === own) await enableV2Controllers(own, controllers);
      await makeFolder(parent);
      await enableV2Controllers(parent, controllers);
      await mkdir(folder);
      created.push(folder);
      for (const limit of limits) await applySettings(folder, v2Settings(limit, valueOf(limit)));
      result.procsFiles.push(join(folder, 'cgroup.procs'));
      for (const limit of limits)
        result.enforcement.push({ limit, value: valueOf(limit), mechanism: `cgroup v2 at ${folder}` });
      return;
    } catch (error) {
      reasons.push(`${folder}: ${describeError(error)}`);
    }
  }
  for (const limit of limits)
    result.unenforced.push({ limit, value: valueOf(limit), reason: `cgroup v2 ${reasons.join('; ')}` });
}

/**
 * Where a v2 session cgroup may go: beside our own cgroup first (its parent has the controllers enabled and no
 * processes of its own; this is what a systemd delegation such as user@UID.service or Delegate=yes allows), then
 * below our own cgroup (works where that is the root cgroup, e.g. in a container with its own cgroup namespace).
 */
async function v2Bases(own: string): Promise<string[]> {
  const parent = dirname(own);
  const parentIsCgroup = parent !== own && (await exists(join(parent, 'cgroup.controllers')));
  return parentIsCgroup ? [parent, own] : [own];
}
