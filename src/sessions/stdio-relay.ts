import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Where a piped sandbox's input comes from and its output goes: `warren run` passes its own stdio. */
export interface StdioRelay {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** Warren's ends of the sandbox's pipes. */
export interface SandboxPipes {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
}

/** How long output may still arrive after the sandbox process has exited (a process that escaped could hold it). */
const OUTPUT_GRACE_MS = 500;

/**
 * Copies `relay.stdin` into the sandbox and its stdout/stderr out, with backpressure both ways (stream.pipe
 * pauses the reading side while the writing side is full). The sandbox only ever holds pipes whose far end is
 * Warren: never the caller's own descriptors, which it could reopen through /proc/1/fd (a file `warren run >`
 * writes to could be truncated, a terminal written to). Input EOF closes the sandbox's stdin. When the reader of
 * our stdout goes away (EPIPE), the sandbox's stdout is closed too, so its next write gets SIGPIPE as it would
 * without Warren in between.
 *
 * `done()` resolves once the sandbox has exited and its output has been handed to `relay.stdout`/`stderr`.
 */
export function relayStdio(
  child: ChildProcess,
  sandbox: SandboxPipes,
  relay: StdioRelay,
): { done(): Promise<void> } {
  const outputs = [
    { from: sandbox.stdout, to: relay.stdout },
    { from: sandbox.stderr, to: relay.stderr },
  ];
  const cleanups: (() => void)[] = [];
  const drained = outputs.map(({ from, to }) => {
    const onError = () => {
      // The reader went away (EPIPE) or the file cannot take more: stop copying; the command sees a closed pipe.
      from.unpipe(to);
      from.destroy();
    };
    to.on('error', onError);
    cleanups.push(() => to.off('error', onError));
    from.pipe(to, { end: false });
    return new Promise<void>((resolve) => from.once('close', resolve));
  });

  // The command may exit, or close its stdin, without reading everything: not an error of the run.
  sandbox.stdin.on('error', () => relay.stdin.unpipe(sandbox.stdin));
  relay.stdin.pipe(sandbox.stdin);

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      // A plan that could not be spawned never exits.
      child.once('error', () => resolve());
    }
  });

  return {
    async done() {
      await exited;
      // Our own stdin would keep reading (and the process alive) for a command that no longer exists.
      relay.stdin.unpipe(sandbox.stdin);
      relay.stdin.destroy();
      sandbox.stdin.destroy();
      const grace = setTimeout(() => {
        for (const { from } of outputs) from.destroy();
      }, OUTPUT_GRACE_MS);
      await Promise.all(drained);
      clearTimeout(grace);
      // Written, or queued to be written before the process exits; errors after this point are nobody's to report.
      for (const cleanup of cleanups) cleanup();
      for (const { to } of outputs) to.on('error', () => undefined);
    },
  };
}
