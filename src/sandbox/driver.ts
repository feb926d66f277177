import type { SandboxSpec } from './spec.js';

/** Whether a driver can run on this host; when not, what to install. */
export type DriverAvailability = { ok: true } | { ok: false; reason: string; install: string };

/** How one resource limit is enforced, for logs and `warren doctor`-style reports. */
export interface LimitEnforcement {
  limit: 'memoryBytes' | 'pids' | 'cpuSeconds' | 'cpus';
  value: number;
  /** e.g. "cgroup v1 memory.limit_in_bytes at /sys/fs/cgroup/memory/warren/s1-x" or "RLIMIT_CPU per process". */
  mechanism: string;
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
