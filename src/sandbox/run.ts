import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { SandboxDriver } from './driver.js';
import type { ProtectedPathsReport } from './protected-paths/index.js';
import type { SandboxSpec } from './spec.js';

export interface SandboxStdio {
  /** Text or bytes written to the command's stdin (then closed), or a stream piped into it. Default: empty. */
  stdin?: string | Buffer | Readable;
  /** Also copy the output here as it arrives (it is captured either way). */
  stdout?: Writable;
  stderr?: Writable;
  /** Kill the sandbox after this many milliseconds. */
  timeoutMs?: number;
}

export interface SandboxRunResult {
  /** Shell-style status: the exit code, or 128 + signal number when killed by a signal. */
  status: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** What the session did to the workspace's protected paths (plan.settleProtectedPaths); absent: none protected. */
  protectedPaths?: ProtectedPathsReport;
}

/** How long output may still arrive after the sandbox process has exited. */
const PIPE_DRAIN_GRACE_MS = 500;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

/**
 * Plans and runs a sandboxed command with pipes, resolves once it has exited and its resources are cleaned up.
 * For a TTY, spawn the LaunchPlan with node-pty instead.
 */
export async function runSandboxed(
  driver: SandboxDriver,
  spec: SandboxSpec,
  stdio: SandboxStdio = {},
): Promise<SandboxRunResult> {
  const plan = await driver.plan(spec);
  try {
    const result = await new Promise<SandboxRunResult>((resolve, reject) => {
      const child = spawn(plan.file, plan.args, {
        env: plan.env,
        cwd: plan.cwd ?? '/',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer =
        stdio.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, stdio.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        stdio.stdout?.write(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        stdio.stderr?.write(chunk);
      });
      // The command may exit without reading its input; that is not an error of the run.
      child.stdin.on('error', () => undefined);
      if (stdio.stdin === undefined) child.stdin.end();
      else if (typeof stdio.stdin === 'string' || Buffer.isBuffer(stdio.stdin)) child.stdin.end(stdio.stdin);
      else stdio.stdin.pipe(child.stdin);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // 'close' waits for the pipes; a process that escaped the sandbox could hold them open forever, so after
      // 'exit' the pipes get a short grace period to drain and are then destroyed.
      let closed = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        resolve({
          status: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          timedOut,
        });
      };
      child.on('close', finish);
      child.on('exit', (code, signal) => {
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(code, signal);
        }, PIPE_DRAIN_GRACE_MS);
      });
    });
    // The sandbox has exited: carry its git state back and neutralise what the host would run, before cleanup.
    const protectedPaths = await plan.settleProtectedPaths?.();
    return protectedPaths ? { ...result, protectedPaths } : result;
  } finally {
    await plan.cleanup();
  }
}
