import type { ProtectedPathsReport } from './protected-paths/index.js';
import type { LimitName, SandboxSpec } from './spec.js';

/** Whether a driver can run on this host; when not, what to install. */
export type DriverAvailability = { ok: true } | { ok: false; reason: string; install: string };

/** How one resource limit is enforced, for logs and `warren doctor`-style reports. */
export interface LimitEnforcement {
  limit: LimitName;
  value: number;
  /** e.g. "cgroup v1 memory.limit_in_bytes at /sys/fs/cgroup/memory/warren/s1-x" or "RLIMIT_CPU per process". */
  mechanism: string;
}

/** A default limit the host could not enforce. */
export interface UnenforcedLimit {
  limit: LimitName;
  value: number;
  /** A few words for a one-line notice, e.g. "no writable memory cgroup". */
  reason: string;
  /** What was tried and how it failed (cgroup folders, errors), for the session's record. */
  detail?: string;
}

/**
 * A ready-to-spawn command. The caller spawns `file` with `args` and exactly `env`, with child_process
 * (pipes) or node-pty (TTY), and must call `cleanup()` once the process has exited, whatever happened.
 */
export interface LaunchPlan {
  file: string;
  args: string[];
  /** The environment of the engine process itself (never the command's, which the plan sets inside). */
  env: Record<string, string>;
  /**
   * Working directory of the engine process on the host (absent: "/"), never the caller's own:
   * engines drop files there (conmon writes an `oom` marker, for one).
   */
  cwd?: string;
  limits: LimitEnforcement[];
  /**
   * Default limits (spec.defaultLimits) this host cannot enforce, with why: the sandbox runs without them. Limits
   * the caller set are never here; they fail the plan instead. Absent or empty: every limit is enforced.
   */
  unenforced?: UnenforcedLimit[];
  /**
   * Once the process has exited, before cleanup: what the session did to the workspace's protected paths, with its
   * git state carried back and what the host would run neutralised (docs/sandbox.md, "Protected paths"). cleanup()
   * does it too when the caller did not; every call gives the same report. Absent: the session protected nothing.
   */
  settleProtectedPaths?(): Promise<ProtectedPathsReport>;
  cleanup(): Promise<void>;
}

/** One container engine (bwrap today; podman or docker later), chosen at assembly from config. */
export interface SandboxDriver {
  readonly name: string;
  available(): Promise<DriverAvailability>;
  /** Validates the spec, prepares host resources (temp files, cgroups) and returns the command to spawn. */
  plan(spec: SandboxSpec): Promise<LaunchPlan>;
  /**
   * Removes what sessions of a crashed Warren left behind (containers, for podman/docker). Call once at start,
   * before any session runs; `keep` spares sessions known to be alive. Absent where nothing can be left behind.
   */
  reconcileLeftovers?(keep?: (sessionId: string) => boolean): Promise<{ removed: string[] }>;
}
