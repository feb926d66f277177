import { WarrenError } from '../../../errors/index.js';
import type { LimitEnforcement, UnenforcedLimit } from '../../driver.js';
import type { SessionCgroups } from '../../limits/cgroup-setup.js';
import type { NormalizedSandboxSpec } from '../../spec.js';

/** How a bwrap session's limits are enforced, and what the launcher must set where no cgroup took them. */
export interface BwrapEnforcement {
  limits: LimitEnforcement[];
  unenforced: UnenforcedLimit[];
  /** RLIMIT_AS (KiB) for an explicit memory limit that no cgroup took. Never for a default: it breaks Node and JVMs. */
  memoryFallbackKiB: number | undefined;
  /** RLIMIT_NPROC for a pids limit that no cgroup took, where it holds (see below). */
  processFallback: number | undefined;
}

export interface EnforcementHost {
  /**
   * The sandbox user is host root (bwrap started by root maps uid 1000 inside to uid 0 outside). The kernel
   * exempts root's processes from RLIMIT_NPROC, so the process fallback holds only when this is false.
   */
  sandboxUserIsHostRoot: boolean;
}

const TMPFS_OF = { tmpBytes: '/tmp', homeBytes: 'HOME', shmBytes: '/dev/shm' } as const;

/**
 * Decides how each limit of the spec is enforced. A limit the caller set that cannot be enforced refuses the
 * launch (fail closed); a default one (spec.defaultedLimits) is dropped and reported in `unenforced` instead.
 *
 * pids without a cgroup: RLIMIT_NPROC. Since Linux 5.14 the kernel counts it per user *and user namespace*
 * (ucounts), and the sandbox is a user namespace of its own whose only user is the sandbox user: the limit bounds
 * the processes and threads of the whole sandbox, not those of the host user elsewhere. Root is exempt, hence
 * `sandboxUserIsHostRoot`.
 */
export function enforcementOf(
  spec: NormalizedSandboxSpec,
  cgroups: SessionCgroups | undefined,
  host: EnforcementHost,
): BwrapEnforcement {
  const result: BwrapEnforcement = {
    limits: [...(cgroups?.enforcement ?? [])],
    unenforced: [],
    memoryFallbackKiB: undefined,
    processFallback: undefined,
  };
  for (const missing of cgroups?.unenforced ?? []) {
    const controller = missing.limit === 'pids' ? 'pids' : 'memory';
    if (missing.limit === 'pids' && !host.sandboxUserIsHostRoot) {
      result.processFallback = missing.value;
      result.limits.push({
        limit: 'pids',
        value: missing.value,
        mechanism: `RLIMIT_NPROC of the sandbox user in its own user namespace (no pids cgroup: ${missing.reason})`,
      });
      continue;
    }
    if (spec.defaultedLimits.includes(missing.limit)) {
      result.unenforced.push({
        limit: missing.limit,
        value: missing.value,
        reason: `no writable ${controller} cgroup`,
        detail: missing.reason,
      });
      continue;
    }
    if (missing.limit === 'memoryBytes') {
      result.memoryFallbackKiB = Math.ceil(missing.value / 1024);
      result.limits.push({
        limit: 'memoryBytes',
        value: missing.value,
        mechanism: `RLIMIT_AS per process (no memory cgroup: ${missing.reason})`,
      });
      continue;
    }
    throw new WarrenError(
      'sandbox-failed',
      `The pids limit cannot be enforced on this host: ${missing.reason}`,
      {
        hint: 'Run Warren as root on a host with the pids cgroup controller, delegate a cgroup v2 subtree with pids to Warren, or remove limits.pids.',
      },
    );
  }
  const { cpus, cpuSeconds } = spec.limits;
  // An explicit CPU share was refused before any cgroup was made (refuseUnsupported); a default one is dropped.
  if (cpus !== undefined)
    result.unenforced.push({ limit: 'cpus', value: cpus, reason: 'the bwrap driver has no CPU share' });
  if (cpuSeconds !== undefined)
    result.limits.push({
      limit: 'cpuSeconds',
      value: cpuSeconds,
      mechanism: 'RLIMIT_CPU per process (ulimit -t)',
    });
  for (const [limit, path] of Object.entries(TMPFS_OF) as [keyof typeof TMPFS_OF, string][]) {
    const value = spec.limits[limit];
    if (value !== undefined)
      result.limits.push({ limit, value, mechanism: `tmpfs size of ${path} (bwrap --size)` });
  }
  return result;
}
