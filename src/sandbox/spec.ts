import { posix } from 'node:path';
import { z } from 'zod';
import { WarrenError } from '../errors/index.js';
import { DEFAULT_HOSTNAME, DEFAULT_PROXY_PORT, SANDBOX_PATHS } from './constants.js';
import { CONTRACT_VARIABLE_NAMES } from './environment-names.js';
import { isWorkspaceRelative, type ProtectedPathsSetting } from './protected-paths/index.js';

/** A host path bound into the sandbox. Mounts are applied after the workspace, in order. */
export interface SandboxMount {
  /** Absolute host path (file or folder); it must exist. */
  source: string;
  /** Absolute path inside the sandbox. */
  target: string;
  readonly: boolean;
}

export interface SandboxLimits {
  /** Memory of all processes together (cgroup), or address space per process where no cgroup is writable. */
  memoryBytes?: number;
  /** Number of processes and threads of the whole sandbox, the launcher and the proxy bridge included. */
  pids?: number;
  /** CPU seconds per process (RLIMIT_CPU); a process past it is killed. */
  cpuSeconds?: number;
  /** Share of CPUs for the whole sandbox (1.5 = one and a half cores), a CFS quota; podman/docker only. */
  cpus?: number;
  /** Size of the /tmp tmpfs. Its pages are memory: they also count against memoryBytes where a cgroup holds it. */
  tmpBytes?: number;
  /** Size of the HOME tmpfs (/home/agent). */
  homeBytes?: number;
  /** Size of the /dev/shm tmpfs. */
  shmBytes?: number;
}

/** The names of SandboxLimits, in a stable order (reports, notices). */
export const LIMIT_NAMES = [
  'memoryBytes',
  'pids',
  'cpuSeconds',
  'cpus',
  'tmpBytes',
  'homeBytes',
  'shmBytes',
] as const satisfies readonly (keyof SandboxLimits)[];

export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * Everything a driver needs to start one session's sandbox: the stable contract between sessions and drivers.
 * Optional fields say what absent means; nothing absent ever widens what the sandbox can reach.
 */
export interface SandboxSpec {
  /** Names the session in `WARREN_SESSION`, cgroups and temp folders: letters, digits, `.`, `_`, `-`. */
  sessionId: string;
  /** Host folder mounted read-write at /workspace; the command starts there. */
  workspace: string;
  mounts?: SandboxMount[];
  /** Extra variables on top of the contract. The contract's own variables cannot be overridden. */
  env?: Record<string, string>;
  /** Absent: no egress at all (only loopback inside) and no proxy or gateway variables. */
  proxy?: { socketPath: string; port?: number };
  /** Host file with system roots + Warren's CA, mounted read-only. Absent: no CA variables are set. */
  caBundlePath?: string;
  /** `token` absent: ANTHROPIC_API_KEY / OPENAI_API_KEY are not set. */
  gateway?: { token?: string };
  /** Absent or empty: no limit beyond the host's. A limit that cannot be enforced fails the launch. */
  limits?: SandboxLimits;
  /**
   * Limits for the fields `limits` leaves out (Warren's built-in defaults, src/sandbox/limits/defaults.ts), enforced
   * where the host allows: one this host cannot enforce is dropped and reported in `plan.unenforced`, and the
   * sandbox starts without it (never with a weaker stand-in such as RLIMIT_AS). Absent: none.
   */
  defaultLimits?: SandboxLimits;
  /** GPU device access (docs/gpu.md); refused with a clear error on a host without one. Absent: no GPU. */
  gpu?: boolean;
  /** Shared package caches to mount by kind (docs/caches.md: npm, pip, cargo, go, gradle, apt). Absent: none. */
  caches?: string[];
  /** Container image for the podman/docker drivers (absent: the driver's default). bwrap refuses it. */
  image?: string;
  /**
   * Let the command run rootless podman of its own (docs/containers.md, "Nested containers"): nested user
   * namespaces are allowed and podman is configured for the sandbox. bwrap only. Absent or false: off.
   */
  nestedContainers?: boolean;
  /**
   * Files in the workspace that the host runs on ordinary actions (docs/sandbox.md, "Protected paths"): absent or
   * true: the default list; false: none (the opt-out); `{ add, remove }`: the default list with workspace-relative
   * paths added or removed (`.git` removes the git directory's private view and the end-of-session repository check).
   */
  protectedPaths?: ProtectedPathsSetting;
  /** True when the caller runs the plan in a PTY; TERM is then set (spec env TERM, else xterm-256color). */
  tty?: boolean;
  /** argv of the command, run with /workspace as cwd. */
  command: string[];
  hostname?: string;
}

/** A spec after validation, with every default filled in. */
export interface NormalizedSandboxSpec {
  sessionId: string;
  workspace: string;
  mounts: SandboxMount[];
  env: Record<string, string>;
  proxy: { socketPath: string; port: number } | undefined;
  caBundlePath: string | undefined;
  gatewayToken: string | undefined;
  /** `limits` with `defaultLimits` filled in where it left a field out. */
  limits: SandboxLimits;
  /** The fields of `limits` that came from `defaultLimits`: best effort, never a reason to refuse the launch. */
  defaultedLimits: LimitName[];
  gpu: boolean;
  caches: string[];
  image: string | undefined;
  nestedContainers: boolean;
  protectedPaths: ProtectedPathsSetting;
  tty: boolean;
  command: string[];
  hostname: string;
}

/** Targets a mount may not cover or replace: they carry the sandbox's own plumbing. */
const RESERVED_TARGETS = ['/', '/proc', '/dev', '/run/warren', '/etc/warren', SANDBOX_PATHS.workspace];

const noNul = (value: string) => !value.includes('\0');
const absolutePath = z
  .string()
  .min(1)
  .refine((value) => value.startsWith('/'), 'must be an absolute path')
  .refine(noNul, 'must not contain NUL characters')
  .refine(
    (value) => posix.normalize(value) === value,
    'must be a normalized path (no "..", "." or repeated "/")',
  );

function isReservedTarget(target: string): boolean {
  const clean = target.length > 1 ? target.replace(/\/$/, '') : target;
  return RESERVED_TARGETS.some(
    (reserved) =>
      clean === reserved ||
      (reserved !== '/' && reserved !== SANDBOX_PATHS.workspace && clean.startsWith(reserved + '/')),
  );
}

const mountSchema = z.object({
  source: absolutePath.describe('host path; must exist'),
  target: absolutePath
    .refine((target) => !isReservedTarget(target), {
      message: `must not be one of ${RESERVED_TARGETS.join(', ')} (or inside /proc, /dev, /run/warren, /etc/warren)`,
    })
    .describe('path inside the sandbox'),
  readonly: z.boolean(),
});

const positiveInteger = z.number().int().positive();

const workspacePath = z
  .string()
  .refine(
    isWorkspaceRelative,
    'must be a path relative to the workspace, without "..", "." or a leading "/"',
  );

const tmpfsSize = positiveInteger.min(1024 * 1024, 'must be at least 1 MiB');

const limitsSchema = z
  .object({
    memoryBytes: positiveInteger.min(16 * 1024 * 1024, 'must be at least 16 MiB').optional(),
    pids: positiveInteger.min(4, 'must be at least 4 (launcher, proxy bridge and command count)').optional(),
    cpuSeconds: positiveInteger.optional(),
    cpus: z.number().min(0.01, 'must be at least 0.01').max(1024).optional(),
    tmpBytes: tmpfsSize.optional(),
    homeBytes: tmpfsSize.optional(),
    shmBytes: tmpfsSize.optional(),
  })
  .strict()
  .default({});

const specSchema = z.object({
  sessionId: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      'must be 1-64 letters, digits, ".", "_" or "-", starting alphanumeric',
    ),
  workspace: absolutePath,
  mounts: z.array(mountSchema).default([]),
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and "_"'),
      z.string().refine(noNul, 'must not contain NUL characters'),
    )
    .default({})
    .superRefine((env, context) => {
      for (const name of Object.keys(env)) {
        if (CONTRACT_VARIABLE_NAMES.has(name))
          context.addIssue({
            code: z.ZodIssueCode.custom,
            path: [name],
            message: `${name} belongs to the sandbox contract and cannot be overridden`,
          });
      }
    }),
  proxy: z
    .object({
      socketPath: absolutePath,
      port: z.number().int().min(1).max(65535).default(DEFAULT_PROXY_PORT),
    })
    .optional(),
  caBundlePath: absolutePath.optional(),
  gateway: z.object({ token: z.string().min(1).refine(noNul).optional() }).default({}),
  limits: limitsSchema,
  defaultLimits: limitsSchema,
  gpu: z.boolean().default(false),
  caches: z.array(z.string()).default([]),
  image: z
    .string()
    .max(255)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$/,
      'must be an image reference such as localhost/warren-agent:latest (it cannot start with "-")',
    )
    .optional(),
  nestedContainers: z.boolean().default(false),
  protectedPaths: z
    .union([
      z.boolean(),
      z
        .object({
          add: z.array(workspacePath).optional(),
          remove: z.array(workspacePath).optional(),
        })
        .strict(),
    ])
    .default(true),
  tty: z.boolean().default(false),
  command: z.array(z.string().refine(noNul, 'must not contain NUL characters')).min(1, 'must name a program'),
  hostname: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'must be a host name label')
    .default(DEFAULT_HOSTNAME),
});

/** Validates a spec where it enters a driver; refuses with one `path: message` line per problem. */
export function normalizeSandboxSpec(spec: SandboxSpec): NormalizedSandboxSpec {
  const result = specSchema.safeParse(spec);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || 'spec'}: ${issue.message}`);
    throw new WarrenError('invalid-argument', `Invalid sandbox spec:\n${lines.join('\n')}`, {
      hint: 'Fix the fields named above.',
    });
  }
  const parsed = result.data;
  const defaultedLimits = LIMIT_NAMES.filter(
    (name) => parsed.limits[name] === undefined && parsed.defaultLimits[name] !== undefined,
  );
  const limits: SandboxLimits = { ...parsed.limits };
  for (const name of defaultedLimits) limits[name] = parsed.defaultLimits[name];
  return {
    sessionId: parsed.sessionId,
    workspace: parsed.workspace,
    mounts: parsed.mounts,
    env: parsed.env,
    proxy: parsed.proxy,
    caBundlePath: parsed.caBundlePath,
    gatewayToken: parsed.gateway.token,
    limits,
    defaultedLimits,
    gpu: parsed.gpu,
    caches: parsed.caches,
    image: parsed.image,
    nestedContainers: parsed.nestedContainers,
    protectedPaths: parsed.protectedPaths,
    tty: parsed.tty,
    command: parsed.command,
    hostname: parsed.hostname,
  };
}
