import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { EgressProxy, ForwardHook, HostPolicy, ProxyListener } from '../proxy/index.js';
import {
  defaultSandboxLimits,
  type LaunchPlan,
  type ProtectedPathsReport,
  type ProtectedPathsSetting,
  type SandboxDriver,
  type SandboxLimits,
} from '../sandbox/index.js';
import type { Store } from '../store/index.js';

/** Issues and revokes the per-session gateway token that a sandbox holds instead of real provider keys. */
export interface SessionTokenIssuer {
  issue(sessionId: string): string;
  revoke(sessionId: string): void;
}

export interface SessionParts {
  store: Store;
  proxy: EgressProxy;
  driver: SandboxDriver;
  /** System roots + Warren's CA, mounted read-only in every sandbox. */
  caBundlePath: string;
  /** Folder under which each session gets a private folder holding its proxy socket. */
  runDir: string;
  tokens?: SessionTokenIssuer;
  /** Called once per session: variables to add inside (secret placeholders) and proxy hooks to run. */
  egress?: () => SessionEgress;
  /** The configured protected paths (sandbox.protectedPaths) for sessions that do not choose; absent: the default. */
  protectedPaths?: ProtectedPathsSetting;
}

/** What the egress side contributes to one session besides its policy. */
export interface SessionEgress {
  environment: Record<string, string>;
  hooks: ForwardHook[];
}

export interface SessionOptions {
  /** A session id chosen by the caller (e.g. to name its workspace folder first); a fresh one otherwise. */
  id?: string;
  kind: string;
  command: string[];
  workspace: string;
  policy: HostPolicy;
  /** Limits the caller or the config set (resolveSessionLimits): enforced, or the session fails. */
  limits?: SandboxLimits;
  /** GPU access (refused by the driver where there is none). */
  gpu?: boolean;
  /** Shared package caches to mount: npm, pip, cargo, go, gradle, apt. */
  caches?: string[];
  /** Container image (podman/docker drivers). */
  image?: string;
  /** Let the command run rootless podman of its own (bwrap driver; docs/containers.md). */
  nestedContainers?: boolean;
  /** This session's protected paths (docs/sandbox.md); absent: the parts' (the config's). */
  protectedPaths?: ProtectedPathsSetting;
  tty: boolean;
  env?: Record<string, string>;
  onKeylog?: (line: Buffer) => void;
  details?: Record<string, unknown>;
}

export interface SessionExit {
  code: number | null;
  signal: string | null;
}

/** A session whose sandbox is ready to spawn; `finish` must be called once, whatever happened. */
export interface PreparedSession {
  id: string;
  plan: LaunchPlan;
  /** Replaces the policy the proxy applies to this session's next requests (e.g. "allow this host"). */
  setPolicy(policy: HostPolicy): void;
  /** Ends the session; what it did to protected paths is then in its row (`details.protectedPaths`). */
  finish(exit: SessionExit | { error: string }): Promise<void>;
}

export function newSessionId(): string {
  return `s-${randomBytes(6).toString('hex')}`;
}

/**
 * Removes the private folders (WARREN_HOME/run/<session>, each holding a proxy socket) that sessions
 * of a crashed Warren left behind, except those of sessions `keep` calls alive. Only names Warren gives
 * sessions are touched (not run/handover, say). Returns the session ids whose folders went.
 */
export function reclaimRunFolders(runDir: string, keep: (sessionId: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!/^s-[0-9a-f]{12}$/.test(name) || keep(name)) continue;
    rmSync(join(runDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Exit status as a shell reports it: the code, or 128 + signal number. */
export function exitStatus(exit: SessionExit, signals: Record<string, number>): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? (signals[exit.signal] ?? 1) : 1);
}

/**
 * Sets up everything one session needs around its sandbox: the database row, the private folder with
 * the proxy socket the sandbox's traffic arrives on (which is what attributes that traffic to the
 * session), the gateway token, and the driver's launch plan. Any failure undoes what was done (fail closed).
 */
export async function prepareSession(parts: SessionParts, options: SessionOptions): Promise<PreparedSession> {
  const id = options.id ?? newSessionId();
  const folder = join(parts.runDir, id);
  parts.store.sessions.create({
    id,
    createdAt: Date.now(),
    kind: options.kind,
    command: options.command,
    workspace: options.workspace,
    driver: parts.driver.name,
    details: { ...options.details, policy: options.policy.explain(), ownerPid: process.pid },
  });
  let listener: ProxyListener | undefined;
  let token: string | undefined;
  const undo = async () => {
    if (token !== undefined) parts.tokens?.revoke(id);
    await listener?.close();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const socketPath = join(folder, 'proxy.sock');
    // The proxy reads `policy` from this object at every decision, so replacing it takes effect at once.
    const egress = parts.egress?.() ?? { environment: {}, hooks: [] };
    const proxySession = {
      id,
      policy: options.policy,
      hooks: egress.hooks,
      ...(options.onKeylog ? { onKeylog: options.onKeylog } : {}),
    };
    listener = await parts.proxy.listen({ path: socketPath }, proxySession);
    token = parts.tokens?.issue(id);
    const protectedPathsSetting = options.protectedPaths ?? parts.protectedPaths;
    const plan = await parts.driver.plan({
      sessionId: id,
      workspace: options.workspace,
      proxy: { socketPath },
      caBundlePath: parts.caBundlePath,
      gateway: token === undefined ? {} : { token },
      ...(options.limits ? { limits: options.limits } : {}),
      // Every session gets Warren's defaults for what its limits leave out, enforced where the host allows.
      defaultLimits: defaultSandboxLimits(totalmem()),
      ...(options.gpu ? { gpu: true } : {}),
      ...(options.caches?.length ? { caches: options.caches } : {}),
      ...(options.image ? { image: options.image } : {}),
      ...(options.nestedContainers ? { nestedContainers: true } : {}),
      ...(protectedPathsSetting !== undefined ? { protectedPaths: protectedPathsSetting } : {}),
      tty: options.tty,
      command: options.command,
      // The user's variables may not replace a secret's placeholder.
      env: { ...options.env, ...egress.environment },
    });
    // How each limit is enforced, and the defaults this host could not enforce, stay with the session.
    parts.store.sessions.update(id, {
      state: 'running',
      details: {
        ...parts.store.sessions.get(id)?.details,
        limits: plan.limits,
        unenforcedLimits: plan.unenforced ?? [],
      },
    });
    let finished = false;
    return {
      id,
      plan,
      setPolicy(policy) {
        proxySession.policy = policy;
      },
      async finish(exit) {
        if (finished) return;
        finished = true;
        let protectedPaths: ProtectedPathsReport | undefined;
        try {
          // Before cleanup, which would settle them unseen: the report stays with the session.
          protectedPaths = await plan.settleProtectedPaths?.();
          await plan.cleanup();
        } finally {
          await undo();
          parts.store.flows.flush();
          const row = parts.store.sessions.get(id);
          const details = { ...row?.details, ...(protectedPaths ? { protectedPaths } : {}) };
          if ('error' in exit) {
            parts.store.sessions.update(id, {
              state: 'failed',
              endedAt: Date.now(),
              details: { ...details, error: exit.error },
            });
          } else {
            parts.store.sessions.update(id, {
              state: 'ended',
              endedAt: Date.now(),
              exitCode: exit.code ?? -1,
              details: { ...details, signal: exit.signal },
            });
          }
        }
      },
    };
  } catch (error) {
    await undo();
    parts.store.sessions.update(id, {
      state: 'failed',
      endedAt: Date.now(),
      details: { ...parts.store.sessions.get(id)?.details, error: (error as Error).message },
    });
    throw error;
  }
}
