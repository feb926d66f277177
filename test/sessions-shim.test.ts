import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxyRelay } from '../src/sessions/shim/relay.js';

// The shim runs as the built file (dist/), as warren serve would start it.
const dist = join(import.meta.dirname, '..', 'dist', 'sessions', 'shim');
type ShimClient = typeof import('../src/sessions/shim/shim-client.js');

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ticks every 100 ms (a background loop), echoes each line it reads, ends on SIGTERM with status 0. */
const AGENT =
  `(i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.1; done) & ticker=$!; ` +
  `trap 'kill $ticker; exit 0' TERM; while read -r line; do echo "got:$line"; done`;

describe('session shim', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it(
    'keeps the PTY, the screen and the recording through a kill -9 of the server that started it; a new one attaches, types and stops it',
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'warren-shim-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const config = {
        sessionId: 's-00000000beef',
        command: {
          file: '/bin/bash',
          args: ['-c', AGENT],
          env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' },
        },
        cols: 80,
        rows: 24,
        controlSocket: join(dir, 'control.sock'),
        recordingPath: join(dir, 'terminal.cast'),
        exitPath: join(dir, 'exit.json'),
      };
      // A stand-in server in its own process: starts the shim, attaches, prints what it sees.
      const server = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { startShim, attachShim } = await import(${JSON.stringify(join(dist, 'shim-client.js'))});
           const config = JSON.parse(process.argv[1]);
           const pid = await startShim(config, ${JSON.stringify(dir)});
           console.log('shim ' + pid);
           const shim = await attachShim(config.controlSocket, config.exitPath);
           shim.process.onData((data) => process.stdout.write(data));
           setInterval(() => {}, 1000);`,
          JSON.stringify(config),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      cleanups.push(() => server.kill('SIGKILL'));
      let seen = '';
      server.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      await until(() => /tick-3\b/.test(seen), 'output at the first server');
      const shimPid = Number(/shim (\d+)/.exec(seen)?.[1]);
      cleanups.push(() => isAlive(shimPid) && process.kill(shimPid, 'SIGKILL'));
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('close', resolve));
      const lastSeen = Math.max(...[...seen.matchAll(/tick-(\d+)/g)].map((match) => Number(match[1])));
      // The command goes on with no server at all.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(isAlive(shimPid)).toBe(true);

      const { attachShim } = (await import(join(dist, 'shim-client.js'))) as ShimClient;
      const shim = await attachShim(config.controlSocket, config.exitPath);
      const atAttach = Math.max(
        ...[...shim.hello.snapshot.matchAll(/tick-(\d+)/g)].map((match) => Number(match[1])),
      );
      // The screen shows what was written while no server was attached.
      expect(atAttach).toBeGreaterThan(lastSeen + 5);
      expect(shim.hello.shimPid).toBe(shimPid);
      let output = '';
      shim.process.onData((data) => (output += data));
      shim.process.write('typed after the restart\r');
      await until(() => output.includes('got:typed after the restart'), 'the echo of typed input');
      // The recording went on too.
      expect(readFileSync(config.recordingPath, 'utf8')).toContain(`tick-${lastSeen + 5}`);

      shim.kill('SIGTERM');
      expect(await shim.exited).toEqual({ code: 0, signal: null });
      expect(JSON.parse(readFileSync(config.exitPath, 'utf8'))).toEqual({ code: 0, signal: null });
      await until(() => !isAlive(shimPid), 'the shim to end');
      expect(existsSync(config.controlSocket)).toBe(false);
    },
  );

  it('holds a connection to the proxy socket while no server listens, and relays it once one does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-relay-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const serverPath = join(dir, 'server.sock');
    const relay = await startProxyRelay({ socketPath: join(dir, 'proxy.sock'), serverPath, retryMs: 20 });
    cleanups.push(() => void relay.close());
    const received: string[] = [];
    const listen = async (): Promise<Server> => {
      const server = createServer((socket) =>
        socket.on('data', (chunk) => {
          received.push(chunk.toString());
          socket.end(`answer to ${chunk.toString()}`);
        }),
      );
      await new Promise<void>((resolve) => server.listen(serverPath, resolve));
      return server;
    };
    const ask = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const client = connect(join(dir, 'proxy.sock'), () => client.write(text));
        let answer = '';
        client.on('data', (chunk) => (answer += chunk.toString()));
        client.on('end', () => resolve(answer));
        client.on('error', reject);
      });
    // Asked while nothing listens: held, not refused.
    const early = ask('first');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toEqual([]);
    const first = await listen();
    expect(await early).toBe('answer to first');
    // The server goes (a restart) and comes back: the next connection waits for it.
    await new Promise<void>((resolve) => first.close(() => resolve()));
    const during = ask('second');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await listen();
    cleanups.push(() => second.close());
    expect(await during).toBe('answer to second');
    expect(received).toEqual(['first', 'second']);
  });
});
