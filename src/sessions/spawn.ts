import { spawn as spawnChild } from 'node:child_process';
import { constants } from 'node:os';
import { spawn as spawnPty, type IPty } from '@lydell/node-pty';
import type { LaunchPlan } from '../sandbox/index.js';
import type { SessionExit } from './lifecycle.js';

/** A running sandbox process, however it was spawned. */
export interface SpawnedSandbox {
  pid: number;
  exited: Promise<SessionExit>;
  kill(signal?: NodeJS.Signals): void;
}

function signalName(signal: number): string | null {
  if (!signal) return null;
  const entry = Object.entries(constants.signals).find(([, value]) => value === signal);
  return entry ? entry[0] : `SIG${signal}`;
}

/** stdin/stdout/stderr of this process passed through to the sandboxed command as pipes. */
export function spawnWithPipes(
  plan: LaunchPlan,
  stdio: 'inherit' | 'pipe' = 'inherit',
): SpawnedSandbox & { child: ReturnType<typeof spawnChild> } {
  const child = spawnChild(plan.file, plan.args, { env: plan.env, cwd: plan.cwd ?? '/', stdio });
  const exited = new Promise<SessionExit>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`warren: could not start ${plan.file}: ${error.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

/** The sandboxed command in a pseudo-terminal of the given size. */
export function spawnWithPty(
  plan: LaunchPlan,
  size: { cols: number; rows: number },
): SpawnedSandbox & { pty: IPty } {
  const pty = spawnPty(plan.file, plan.args, {
    name: plan.env.TERM ?? 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    cwd: plan.cwd ?? '/',
    env: plan.env,
  });
  const exited = new Promise<SessionExit>((resolve) => {
    pty.onExit(({ exitCode, signal }) => {
      const name = signal ? signalName(signal) : null;
      resolve({ code: name ? null : exitCode, signal: name });
    });
  });
  return { pty, pid: pty.pid, exited, kill: (signal = 'SIGTERM') => pty.kill(signal) };
}
