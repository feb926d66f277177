import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { SessionExit } from '../lifecycle.js';
import { createTerminalRecording } from '../recording.js';
import { spawnWithPty } from '../spawn.js';
import { createHeadlessTerminal } from '../terminal.js';
import {
  createMessageReader,
  encodeMessage,
  type ShimConfig,
  type ShimEvent,
  type ShimRequest,
} from './protocol.js';
import { startProxyRelay } from './relay.js';

/**
 * The session shim: one small process per session, started detached by `warren serve`, that owns what
 * must outlive the server: the command's PTY, a headless terminal that keeps its screen, the asciicast
 * recording and the session's proxy socket (relay.ts). A server attaches over the control socket (one
 * at a time; a new one replaces the old), gets the current screen, then the output as it comes, and
 * sends keystrokes, resizes and signals. When the command exits, the shim writes its exit to
 * `exitPath`, tells the attached server, and ends.
 *
 * Usage: node shim-main.js CONFIG.json (the file is read and deleted at once).
 */
async function main(configPath: string): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as ShimConfig;
  rmSync(configPath, { force: true });
  const terminal = createHeadlessTerminal({ cols: config.cols, rows: config.rows });
  const recording = config.recordingPath
    ? createTerminalRecording({
        path: config.recordingPath,
        cols: config.cols,
        rows: config.rows,
        title: config.sessionId,
      })
    : undefined;
  const relay = config.proxy ? await startProxyRelay(config.proxy) : undefined;
  const spawned = spawnWithPty(config.command, { cols: config.cols, rows: config.rows });
  let attached: Socket | undefined;
  /** Set once the command has ended (closures below read it). */
  const ended: { exit?: SessionExit } = {};
  let parsing = 0;
  const drainWaiters: (() => void)[] = [];

  const send = (event: ShimEvent) => {
    if (!attached || attached.destroyed) return;
    // A server that cannot keep up holds the PTY back, as a slow parser does (pty-host.ts).
    if (!attached.write(encodeMessage(event))) {
      spawned.pty.pause();
      attached.once('drain', () => spawned.pty.resume());
    }
  };

  spawned.pty.onData((data) => {
    parsing += data.length;
    // The screen first: a snapshot taken after this point includes the chunk, so the server gets it once.
    terminal.write(data, () => {
      parsing -= data.length;
      recording?.output(data);
      send({ type: 'terminal-output', data });
      if (parsing === 0) for (const resolve of drainWaiters.splice(0)) resolve();
    });
  });

  const control = createServer((socket) => {
    attached?.destroy();
    attached = socket;
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      if (attached === socket) attached = undefined;
    });
    socket.on(
      'data',
      createMessageReader<ShimRequest>((request) => {
        if (request.type === 'terminal-input') {
          if (ended.exit === undefined) spawned.pty.write(request.data);
        } else if (request.type === 'terminal-resize') {
          if (ended.exit !== undefined || request.cols < 2 || request.rows < 1) return;
          spawned.pty.resize(request.cols, request.rows);
          terminal.resize(request.cols, request.rows);
          recording?.resize(request.cols, request.rows);
        } else if (request.type === 'process-signal') {
          if (ended.exit === undefined) spawned.kill(request.signal);
        }
      }),
    );
    send({
      type: 'shim-hello',
      shimPid: process.pid,
      commandPid: spawned.pid,
      cols: terminal.cols,
      rows: terminal.rows,
      snapshot: terminal.snapshot(),
      ...(ended.exit ? { exit: ended.exit } : {}),
    });
  });
  rmSync(config.controlSocket, { force: true });
  await new Promise<void>((resolve) => control.listen(config.controlSocket, resolve));
  // The server waits for this line before it attaches.
  process.stdout.write(`ready ${process.pid}\n`);

  const exit = await spawned.exited;
  ended.exit = exit;
  if (parsing > 0) await new Promise<void>((resolve) => drainWaiters.push(resolve));
  await recording?.close();
  writeFileSync(config.exitPath, JSON.stringify(exit), { mode: 0o600 });
  send({ type: 'process-exited', exit });
  await relay?.close();
  control.close();
  if (attached) await new Promise<void>((resolve) => attached?.end(resolve));
  rmSync(config.controlSocket, { force: true });
  terminal.dispose();
  process.exit(0);
}

main(process.argv[2] ?? '').catch((error: unknown) => {
  process.stderr.write(`warren shim: ${String(error)}\n`);
  process.exit(1);
});
