import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A session's terminal output as an asciicast v2 file: a JSON header line, then one
 * `[seconds, "o", text]` line per output chunk and `[seconds, "r", "COLSxROWS"]` per resize.
 * Events are gathered for a short while and written together, so that a chatty program costs one
 * disk write per interval, not one per chunk.
 */
export interface TerminalRecording {
  output(data: string): void;
  resize(cols: number, rows: number): void;
  /** Writes what is pending and closes the file. */
  close(): Promise<void>;
}

export interface RecordingOptions {
  path: string;
  cols: number;
  rows: number;
  title?: string;
  now?: () => number;
  flushIntervalMs?: number;
}

export function asciicastHeader(options: {
  cols: number;
  rows: number;
  startedAt: number;
  title?: string;
}): string {
  return JSON.stringify({
    version: 2,
    width: options.cols,
    height: options.rows,
    timestamp: Math.floor(options.startedAt / 1000),
    env: { TERM: 'xterm-256color' },
    ...(options.title ? { title: options.title } : {}),
  });
}

export function asciicastEvent(seconds: number, kind: 'o' | 'r', data: string): string {
  return JSON.stringify([Math.round(seconds * 1e6) / 1e6, kind, data]);
}

export function createTerminalRecording(options: RecordingOptions): TerminalRecording {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const file: WriteStream = createWriteStream(options.path, { mode: 0o600 });
  file.on('error', () => {
    // A full disk must not take the session down; the recording simply stops growing.
  });
  let pending: string[] = [asciicastHeader({ ...options, startedAt })];
  let pendingOutput = '';
  let outputAt = 0;
  const takeOutput = () => {
    if (pendingOutput === '') return;
    pending.push(asciicastEvent(outputAt, 'o', pendingOutput));
    pendingOutput = '';
  };
  const flush = () => {
    takeOutput();
    if (pending.length === 0) return;
    file.write(`${pending.join('\n')}\n`);
    pending = [];
  };
  const timer = setInterval(flush, options.flushIntervalMs ?? 200);
  timer.unref();
  return {
    output(data) {
      // Chunks that arrive within one interval become one event stamped with the first chunk's time.
      if (pendingOutput === '') outputAt = (now() - startedAt) / 1000;
      pendingOutput += data;
      if (pendingOutput.length > 256 * 1024) flush();
    },
    resize(cols, rows) {
      takeOutput();
      pending.push(asciicastEvent((now() - startedAt) / 1000, 'r', `${cols}x${rows}`));
    },
    async close() {
      clearInterval(timer);
      flush();
      await new Promise<void>((resolve) => file.end(resolve));
    },
  };
}
