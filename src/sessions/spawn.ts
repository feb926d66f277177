import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { spawn as spawnPty, type IPty } from '@lydell/node-pty';
import type { LaunchPlan } from '../sandbox/index.js';
import type { SessionExit } from './lifecycle.js';
import { createOsPipes, type OsPipe } from './os-pipes.js';
import { relayStdio, type StdioRelay } from './stdio-relay.js';

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

/**
 * The sandboxed command with real pipes (os-pipes.ts) on stdin, stdout and stderr, never a descriptor of the
 * caller's, copied from and to `relay` (stdio-relay.ts). `exited` waits for the output to be handed over.
 */
export function spawnWithPipes(plan: LaunchPlan, relay: StdioRelay): SpawnedSandbox {
  const [input, output, errors] = createOsPipes(3) as [OsPipe, OsPipe, OsPipe];
  const theirs = [input.read, output.write, errors.write];
  const ours = [input.write, output.read, errors.read];
  let child: ChildProcess;
  try {
    child = spawnChild(plan.file, plan.args, { env: plan.env, cwd: plan.cwd ?? '/', stdio: theirs });
  } catch (error) {
    for (const fd of ours) closeSync(fd);
    throw error;
  } finally {
    // The child has its copies; ours of its ends would keep its stdin open and its output from ending.
    for (const fd of theirs) closeSync(fd);
  }
  const relaying = relayStdio(
    child,
    {
      stdin: new Socket({ fd: input.write, readable: false, writable: true }),
      stdout: new Socket({ fd: output.read, readable: true, writable: false }),
      stderr: new Socket({ fd: errors.read, readable: true, writable: false }),
    },
    relay,
  );
  const exited = new Promise<SessionExit>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`warren: could not start ${plan.file}: ${error.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }).then(async (exit) => {
    await relaying.done();
    return exit;
  });
  return { pid: child.pid ?? -1, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** The sandboxed command in a pseudo-terminal of the given size. */
export function spawnWithPty(
  plan: Pick<LaunchPlan, 'file' | 'args' | 'env' | 'cwd'>,
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
