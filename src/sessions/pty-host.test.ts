import { spawn } from '@lydell/node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyHost, type PtyHost, type TerminalServerMessage, type TerminalViewer } from './pty-host.js';
import { createHeadlessTerminal, type HeadlessTerminal } from './terminal.js';

interface RecordingViewer extends TerminalViewer {
  output: Buffer[];
  controls: TerminalServerMessage[];
  text(): string;
}

function recordingViewer(): RecordingViewer {
  const output: Buffer[] = [];
  const controls: TerminalServerMessage[] = [];
  return {
    output,
    controls,
    sendOutput: (data) => output.push(data),
    sendControl: (message) => controls.push(message),
    text: () => Buffer.concat(output).toString('utf8'),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads the visible screen of a snapshot by replaying it into a fresh headless terminal. */
async function screenOf(snapshot: string, cols: number, rows: number): Promise<string[]> {
  const replay = createHeadlessTerminal({ cols, rows });
  await new Promise<void>((resolve) => replay.write(snapshot, resolve));
  const lines = replay.snapshot().split('\r\n');
  replay.dispose();
  return lines;
}

describe('PTY host', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  function start(script: string, cols = 60, rows = 10) {
    const pty = spawn('/bin/sh', ['-c', script], {
      name: 'xterm-256color',
      cols,
      rows,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color' },
    });
    const terminal: HeadlessTerminal = createHeadlessTerminal({ cols, rows });
    const host: PtyHost = createPtyHost({
      pty,
      terminal,
      limits: { viewerHighWater: 64 * 1024, viewerLowWater: 8 * 1024, resizeDebounceMs: 10 },
    });
    const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
    cleanups.push(() => {
      host.dispose();
      terminal.dispose();
      try {
        pty.kill('SIGKILL');
      } catch {
        // already gone
      }
    });
    return { pty, terminal, host, exited };
  }

  it('sends a snapshot on attach, then live output, and forwards input', async () => {
    const { host } = start('printf "ready\\n"; read line; printf "got:%s\\n" "$line"; sleep 5');
    const first = recordingViewer();
    const handle = host.attach(first);
    expect(first.controls[0]?.type).toBe('terminal-snapshot');
    await until(
      () => first.text().includes('ready') || JSON.stringify(first.controls).includes('ready'),
      'ready',
    );
    handle.input('hello\r');
    await until(() => first.text().includes('got:hello'), 'the echoed input');
  });

  it('a detached viewer can no longer type: its input never reaches the PTY', async () => {
    const { host } = start('printf "ready\\n"; read line; printf "got:%s\\n" "$line"; sleep 5');
    const gone = recordingViewer();
    const watcher = recordingViewer();
    const goneHandle = host.attach(gone);
    host.attach(watcher);
    await until(
      () => JSON.stringify(watcher.controls).includes('ready') || watcher.text().includes('ready'),
      'ready',
    );
    goneHandle.detach();
    goneHandle.input('from-the-logged-out-device\r');
    const live = host.attach(recordingViewer());
    live.input('from-a-live-viewer\r');
    await until(() => watcher.text().includes('got:'), 'the line the shell read');
    expect(watcher.text()).toContain('got:from-a-live-viewer');
    expect(watcher.text()).not.toContain('from-the-logged-out-device');
  });

  it('redraws a full-screen program for a viewer that attaches later', async () => {
    // Alternate screen, cursor moves and colours: what a byte backlog replay garbles.
    const { host } = start(
      'printf "\\033[?1049h\\033[2J\\033[1;1Hheader\\033[5;10H\\033[31mmiddle\\033[0m\\033[10;1Hfooter"; sleep 5',
    );
    const early = recordingViewer();
    host.attach(early);
    await until(() => early.text().includes('footer'), 'the TUI output');
    const late = recordingViewer();
    host.attach(late);
    const snapshot = late.controls.find((message) => message.type === 'terminal-snapshot');
    expect(snapshot).toBeDefined();
    if (snapshot?.type !== 'terminal-snapshot') return;
    expect(snapshot.data).toContain('\x1b[?1049h');
    const screen = await screenOf(snapshot.data, snapshot.cols, snapshot.rows);
    expect(screen.join('\n')).toContain('header');
    expect(screen.join('\n')).toContain('middle');
    expect(screen.join('\n')).toContain('footer');
  });

  it('never lets a viewer that does not acknowledge hold back the PTY or another viewer', async () => {
    const { host, exited } = start(
      'head -c 3000000 /dev/zero | tr "\\0" "x"; printf "\\nDONE\\n"; sleep 1',
      120,
      20,
    );
    const slow = recordingViewer();
    const fast = recordingViewer();
    host.attach(slow);
    // node-pty can drop the last bytes a process writes just before it exits: the script lingers a moment.
    // The fast viewer draws (and acknowledges) each chunk as soon as it arrives.
    const fastAttachment: { handle?: ReturnType<PtyHost['attach']> } = {};
    const sendOutput = fast.sendOutput;
    fast.sendOutput = (data) => {
      sendOutput(data);
      fastAttachment.handle?.acknowledge(data.length);
    };
    fastAttachment.handle = host.attach(fast);
    await exited;
    await host.drained();
    await until(() => fast.text().includes('DONE'), 'the end of the output for the fast viewer');
    const slowBytes = slow.output.reduce((sum, chunk) => sum + chunk.length, 0);
    // The slow viewer got about its high-water mark, then nothing: bounded memory, no stall.
    expect(slowBytes).toBeLessThan(64 * 1024 + 70_000);
    expect(fast.output.reduce((sum, chunk) => sum + chunk.length, 0)).toBeGreaterThan(3_000_000);
  });

  it('gives a viewer that fell behind a fresh snapshot once it catches up', async () => {
    const { host, exited } = start(
      'head -c 500000 /dev/zero | tr "\\0" "y"; printf "\\nEND-MARK\\n"; sleep 5',
      80,
      10,
    );
    const viewer = recordingViewer();
    const handle = host.attach(viewer);
    await until(() => viewer.text().includes('y'), 'some output');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1500))]);
    await host.drained();
    const snapshotsBefore = viewer.controls.filter((message) => message.type === 'terminal-snapshot').length;
    handle.acknowledge(viewer.output.reduce((sum, chunk) => sum + chunk.length, 0));
    const snapshots = viewer.controls.filter((message) => message.type === 'terminal-snapshot');
    expect(snapshots.length).toBe(snapshotsBefore + 1);
    const latest = snapshots.at(-1);
    expect(latest?.type === 'terminal-snapshot' && latest.data).toContain('END-MARK');
  });

  it('lets the newest viewer own the size, debounced, and hands it back when it leaves', async () => {
    const { host, terminal } = start('sleep 5');
    const older = recordingViewer();
    const olderHandle = host.attach(older);
    const newer = recordingViewer();
    const newerHandle = host.attach(newer);
    expect(newer.controls).toContainEqual({ type: 'terminal-owner', owner: true });
    expect(older.controls).toContainEqual({ type: 'terminal-owner', owner: false });
    olderHandle.resize(40, 5);
    newerHandle.resize(70, 12);
    newerHandle.resize(72, 14);
    await until(() => terminal.cols === 72, 'the resize');
    expect(terminal.rows).toBe(14);
    expect(older.controls).toContainEqual({ type: 'terminal-resized', cols: 72, rows: 14 });
    expect(older.controls).not.toContainEqual({ type: 'terminal-resized', cols: 70, rows: 12 });
    newerHandle.detach();
    expect(older.controls.at(-1)).toEqual({ type: 'terminal-owner', owner: true });
  });
});
