import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionExit } from '../lifecycle.js';
import type { TerminalProcess } from '../pty-host.js';
import {
  createMessageReader,
  encodeMessage,
  type ShimConfig,
  type ShimEvent,
  type ShimRequest,
} from './protocol.js';

/** The built shim (dist/sessions/shim/shim-main.js), beside this file. */
const SHIM_MAIN = fileURLToPath(new URL('./shim-main.js', import.meta.url));

/**
 * Starts a session's shim as its own process group (setsid: a signal to the server's group, a closed
 * terminal or the server's death does not reach it) and waits until its control socket listens.
 * `configDir` is the session's private run folder: the config (with the command's environment) is
 * written there, mode 0600, and the shim deletes it on start.
 */
export async function startShim(config: ShimConfig, configDir: string, timeoutMs = 10_000): Promise<number> {
  const configPath = join(configDir, 'shim-config.json');
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [SHIM_MAIN, configPath], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the session shim did not start in time')), timeoutMs);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the session shim exited at start (${code})`));
    });
  });
  // The shim lives on without us: no pipe of ours may keep it (or us) waiting.
  child.stdout?.destroy();
  child.unref();
  return pid;
}

/** A server's hold on a running shim: its PTY as a TerminalProcess (for PtyHost), its exit, signals. */
export interface AttachedShim {
  hello: Extract<ShimEvent, { type: 'shim-hello' }>;
  process: TerminalProcess;
  /** The command's exit; `{ error }` when the shim went away without one (it was killed). */
  exited: Promise<SessionExit | { error: string }>;
  kill(signal?: NodeJS.Signals): void;
  /** Lets go of the shim (the session goes on without this server). */
  detach(): void;
}

export function attachShim(
  controlSocket: string,
  exitPath: string,
  timeoutMs = 10_000,
): Promise<AttachedShim> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocket);
    const listeners = new Set<(data: string) => void>();
    let hello: AttachedShim['hello'] | undefined;
    let detached = false;
    let settleExit: (exit: SessionExit | { error: string }) => void = () => {};
    const exited = new Promise<SessionExit | { error: string }>((done) => (settleExit = done));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the session shim did not answer'));
    }, timeoutMs);
    const request = (message: ShimRequest) => {
      if (!socket.destroyed) socket.write(encodeMessage(message));
    };
    socket.on(
      'data',
      createMessageReader<ShimEvent>((event) => {
        if (event.type === 'shim-hello') {
          hello = event;
          clearTimeout(timer);
          if (event.exit) settleExit(event.exit);
          resolve({
            hello: event,
            exited,
            process: {
              onData(listener) {
                listeners.add(listener);
                return { dispose: () => listeners.delete(listener) };
              },
              write: (data) => request({ type: 'terminal-input', data }),
              resize: (cols, rows) => request({ type: 'terminal-resize', cols, rows }),
              pause: () => socket.pause(),
              resume: () => socket.resume(),
            },
            kill: (signal = 'SIGTERM') => request({ type: 'process-signal', signal }),
            detach: () => {
              detached = true;
              socket.destroy();
            },
          });
        } else if (event.type === 'terminal-output') {
          for (const listener of listeners) listener(event.data);
        } else {
          settleExit(event.exit);
        }
      }),
    );
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (!hello) reject(error);
    });
    socket.once('close', () => {
      if (detached) return;
      // The shim writes the exit before it says so: a close without the message still finds it there.
      if (existsSync(exitPath)) settleExit(JSON.parse(readFileSync(exitPath, 'utf8')) as SessionExit);
      else settleExit({ error: 'the session shim went away without the command ending' });
    });
  });
}
