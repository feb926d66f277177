import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WarrenError } from '../errors/index.js';
import type { HostPolicy } from '../proxy/index.js';
import type { LaunchPlan, SandboxLimits } from '../sandbox/index.js';
import type { SessionRow, Store } from '../store/index.js';
import { newSessionId, type PreparedSession, type SessionExit, type SessionOptions } from './lifecycle.js';
import { prepareWorkspace, type WorkspaceSource } from './manager-workspace.js';
import { createPtyHost, type FlowControlLimits, type PtyHost, type TerminalProcess } from './pty-host.js';
import { createTerminalRecording } from './recording.js';
import { spawnWithPty, type SpawnedSandbox } from './spawn.js';
import { createHeadlessTerminal } from './terminal.js';

export interface NewSession {
  /** Preset name or "custom": shown in lists, stored as the session's kind. */
  agent: string;
  command: string[];
  env: Record<string, string>;
  policy: HostPolicy;
  workspace: WorkspaceSource;
  limits?: SandboxLimits;
  /** Give the session the host's GPUs; the driver refuses (fail closed) on a host without one. */
  gpu?: boolean;
  /** Let the agent run containers inside its sandbox (nested rootless podman; bwrap driver only). */
  nestedContainers?: boolean;
  /** Shared package caches (npm, pip, cargo, go, gradle, apt); absent: whatever `prepare` defaults to. */
  caches?: string[];
  cols: number;
  rows: number;
  details?: Record<string, unknown>;
}

/** `session-<verb>` events for live views. */
export type SessionEvent =
  | { type: 'session-started'; session: SessionRow }
  | { type: 'session-ended'; session: SessionRow }
  | { type: 'session-removed'; sessionId: string };

/** A session this process started: its terminal stays readable after the process ends. */
export interface LiveSession {
  id: string;
  host: PtyHost;
  running: boolean;
  /** Replaces the host policy the proxy applies to this session from its next request on. */
  setPolicy(policy: HostPolicy): void;
  /** Resolves once the session has ended and its row says so. */
  finished: Promise<void>;
}

export type SpawnTerminal = (
  plan: LaunchPlan,
  size: { cols: number; rows: number },
) => SpawnedSandbox & { pty: TerminalProcess };

export interface SessionManagerOptions {
  store: Store;
  /** WARREN_HOME/sessions: each session gets `<id>/` with its workspace copy, recording and key log. */
  sessionsDir: string;
  /** Sets up the sandbox around a session (prepareSession bound to the runtime's parts). */
  prepare(options: SessionOptions): Promise<PreparedSession>;
  spawn?: SpawnTerminal;
  onEvent?: (event: SessionEvent) => void;
  flowControl?: Partial<FlowControlLimits>;
  /** How long a stopped session gets between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
  /** Ended sessions whose final screen stays attachable (newest first); older ones release their terminal. */
  keepEnded?: number;
  /** Failures while ending a session (logged by the caller); the session is still marked ended. */
  onError?: (sessionId: string, error: unknown) => void;
}

export interface SessionFiles {
  folder: string;
  recording: string;
  keylog: string;
}

export interface SessionManager {
  create(request: NewSession): Promise<SessionRow>;
  live(id: string): LiveSession | undefined;
  files(id: string): SessionFiles;
  /** Ends a running session (SIGTERM, then SIGKILL after the grace period). */
  stop(id: string): Promise<void>;
  /** Stops it if needed, then deletes its row, flows and folder (an in-place workspace is left alone). */
  remove(id: string): Promise<void>;
  /** Stops every running session and waits for them to be recorded as ended. */
  closeAll(): Promise<void>;
}

interface Entry extends LiveSession {
  spawned: SpawnedSandbox | undefined;
  dispose(): void;
}

export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const entries = new Map<string, Entry>();
  const spawn: SpawnTerminal = options.spawn ?? spawnWithPty;
  const graceMs = options.stopGraceMs ?? 5000;
  const emit = (event: SessionEvent) => options.onEvent?.(event);
  const forgetOldEnded = () => {
    // Map order is creation order: the oldest ended sessions go first.
    const ended = [...entries.values()].filter((entry) => !entry.running);
    for (const entry of ended.slice(0, Math.max(0, ended.length - (options.keepEnded ?? 50)))) {
      entry.dispose();
      entries.delete(entry.id);
    }
  };
  const filesOf = (id: string): SessionFiles => {
    if (!/^[\w-]+$/.test(id)) throw new WarrenError('invalid-argument', `not a session id: "${id}"`);
    const folder = join(options.sessionsDir, id);
    return { folder, recording: join(folder, 'terminal.cast'), keylog: join(folder, 'keylog.txt') };
  };

  const stop = async (id: string) => {
    const entry = entries.get(id);
    if (!entry?.running) return;
    entry.spawned?.kill('SIGTERM');
    const timer = setTimeout(() => entry.spawned?.kill('SIGKILL'), graceMs);
    await entry.finished;
    clearTimeout(timer);
  };

  return {
    async create(request) {
      const id = newSessionId();
      const files = filesOf(id);
      mkdirSync(files.folder, { recursive: true, mode: 0o700 });
      let workspace: string;
      try {
        workspace = await prepareWorkspace(request.workspace, join(files.folder, 'workspace'));
      } catch (error) {
        rmSync(files.folder, { recursive: true, force: true });
        throw error;
      }
      const keylog = createWriteStream(files.keylog, { mode: 0o600 });
      keylog.on('error', () => {});
      const prepared = await options
        .prepare({
          id,
          kind: request.agent,
          command: request.command,
          workspace,
          policy: request.policy,
          tty: true,
          env: request.env,
          ...(request.limits ? { limits: request.limits } : {}),
          ...(request.gpu ? { gpu: true } : {}),
          ...(request.nestedContainers ? { nestedContainers: true } : {}),
          // Only when given: an absent list leaves `prepare` its default (serve: sandbox.caches).
          ...(request.caches ? { caches: request.caches } : {}),
          details: { ...request.details, workspaceSource: request.workspace },
          onKeylog: (line) => keylog.write(line),
        })
        .catch(async (error: unknown) => {
          // The row stays, marked failed with the reason; the folder (workspace copy, empty key log) goes.
          await new Promise<void>((resolve) => keylog.end(resolve));
          rmSync(files.folder, { recursive: true, force: true });
          throw error;
        });
      const terminal = createHeadlessTerminal({ cols: request.cols, rows: request.rows });
      const recording = createTerminalRecording({
        path: files.recording,
        cols: request.cols,
        rows: request.rows,
        title: `${request.agent} ${id}`,
      });
      let spawned: (SpawnedSandbox & { pty: TerminalProcess }) | undefined;
      let exited: Promise<SessionExit | { error: string }>;
      let host: PtyHost;
      try {
        spawned = spawn(prepared.plan, { cols: request.cols, rows: request.rows });
        host = createPtyHost({
          pty: spawned.pty,
          terminal,
          recording,
          ...(options.flowControl ? { limits: options.flowControl } : {}),
        });
        exited = spawned.exited;
      } catch (error) {
        host = createPtyHost({ pty: inertProcess, terminal, recording });
        exited = Promise.resolve({ error: `the sandbox could not be started: ${(error as Error).message}` });
      }
      const entry: Entry = {
        id,
        host,
        running: true,
        spawned,
        setPolicy: (policy) => prepared.setPolicy(policy),
        finished: Promise.resolve(),
        dispose() {
          host.dispose();
          terminal.dispose();
        },
      };
      entry.finished = exited.then(async (exit) => {
        try {
          await host.drained();
          host.markExited('error' in exit ? { code: null, signal: null } : exit);
          await recording.close();
          await new Promise<void>((resolve) => keylog.end(resolve));
          await prepared.finish(exit);
        } catch (error) {
          // Ending must never throw into nobody's hands (it would bring the server down).
          options.onError?.(id, error);
        } finally {
          entry.running = false;
          forgetOldEnded();
          const row = options.store.sessions.get(id);
          if (row) emit({ type: 'session-ended', session: row });
        }
      });
      entries.set(id, entry);
      const row = options.store.sessions.get(id) as SessionRow;
      emit({ type: 'session-started', session: row });
      return row;
    },
    live: (id) => entries.get(id),
    files: filesOf,
    stop,
    async remove(id) {
      const row = options.store.sessions.get(id);
      if (!row) throw new WarrenError('not-found', `no session ${id}`);
      await stop(id);
      entries.get(id)?.dispose();
      entries.delete(id);
      const files = filesOf(id);
      if (existsSync(files.folder)) rmSync(files.folder, { recursive: true, force: true });
      options.store.sessions.remove(id);
      emit({ type: 'session-removed', sessionId: id });
    },
    async closeAll() {
      await Promise.all([...entries.keys()].map((id) => stop(id)));
      for (const entry of entries.values()) entry.dispose();
      entries.clear();
    },
  };
}

/** Stands in for a PTY that never started, so that viewers still get a (blank) screen and the exit. */
const inertProcess: TerminalProcess = {
  onData: () => ({ dispose() {} }),
  write() {},
  resize() {},
  pause() {},
  resume() {},
};
