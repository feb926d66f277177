import type { SessionExit } from './lifecycle.js';
import type { TerminalRecording } from './recording.js';
import type { HeadlessTerminal } from './terminal.js';

/** The part of a pseudo-terminal the host uses (node-pty's IPty satisfies it). */
export interface TerminalProcess {
  onData(listener: (data: string) => void): { dispose(): void };
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
}

/** Control messages to a viewer; output itself travels as raw UTF-8 bytes beside them. */
export type TerminalServerMessage =
  | { type: 'terminal-snapshot'; data: string; cols: number; rows: number }
  | { type: 'terminal-resized'; cols: number; rows: number }
  | { type: 'terminal-owner'; owner: boolean }
  | { type: 'terminal-exited'; code: number | null; signal: string | null };

/** One attached browser tab (or test client). */
export interface TerminalViewer {
  sendOutput(data: Buffer): void;
  sendControl(message: TerminalServerMessage): void;
}

export interface ViewerHandle {
  input(data: string): void;
  /** Ignored unless this viewer owns the size. */
  resize(cols: number, rows: number): void;
  /** The viewer has drawn this many more output bytes. */
  acknowledge(bytes: number): void;
  detach(): void;
}

export interface FlowControlLimits {
  /** Unacknowledged bytes after which a viewer stops receiving output and is marked behind. */
  viewerHighWater: number;
  /** Once a behind viewer's unacknowledged bytes fall to this, it gets a fresh snapshot and resumes. */
  viewerLowWater: number;
  /** Bytes waiting in the headless terminal's parser after which the PTY is paused (the only back-pressure). */
  parserHighWater: number;
  parserLowWater: number;
  resizeDebounceMs: number;
}

export const defaultFlowControl: FlowControlLimits = {
  viewerHighWater: 1024 * 1024,
  viewerLowWater: 128 * 1024,
  parserHighWater: 4 * 1024 * 1024,
  parserLowWater: 512 * 1024,
  resizeDebounceMs: 80,
};

export interface PtyHost {
  attach(viewer: TerminalViewer): ViewerHandle;
  readonly viewerCount: number;
  /** Tells every viewer, now and later, that the process is gone. */
  markExited(exit: SessionExit): void;
  /** Resolves once everything the PTY wrote has been parsed and recorded. */
  drained(): Promise<void>;
  dispose(): void;
}

interface ViewerState {
  viewer: TerminalViewer;
  sent: number;
  acknowledged: number;
  behind: boolean;
  attachedAt: number;
}

export interface PtyHostOptions {
  pty: TerminalProcess;
  terminal: HeadlessTerminal;
  recording?: TerminalRecording;
  limits?: Partial<FlowControlLimits>;
  /** Called on every output chunk (after parsing), e.g. to track activity. */
  onOutput?: (data: string) => void;
}

/**
 * Fans one PTY out to any number of viewers. Output is forwarded only after the headless terminal
 * has parsed it, so a snapshot taken at any moment plus the output forwarded after it is exactly the
 * screen. A slow viewer never holds the PTY back: past its high-water mark it is skipped, and when it
 * catches up it gets a fresh snapshot instead of the backlog it missed.
 */
export function createPtyHost(options: PtyHostOptions): PtyHost {
  const limits = { ...defaultFlowControl, ...options.limits };
  const { pty, terminal } = options;
  const viewers = new Set<ViewerState>();
  let owner: ViewerState | undefined;
  let exit: SessionExit | undefined;
  let parsing = 0;
  let paused = false;
  let attachCounter = 0;
  let resizeTimer: NodeJS.Timeout | undefined;
  let drainWaiters: (() => void)[] = [];

  const snapshotOf = (): TerminalServerMessage => ({
    type: 'terminal-snapshot',
    data: terminal.snapshot(),
    cols: terminal.cols,
    rows: terminal.rows,
  });

  const forward = (data: string) => {
    options.recording?.output(data);
    options.onOutput?.(data);
    if (viewers.size === 0) return;
    const bytes = Buffer.from(data, 'utf8');
    for (const state of viewers) {
      if (state.behind) continue;
      if (state.sent - state.acknowledged > limits.viewerHighWater) {
        state.behind = true;
        continue;
      }
      state.sent += bytes.length;
      state.viewer.sendOutput(bytes);
    }
  };

  const subscription = pty.onData((data) => {
    parsing += data.length;
    if (!paused && parsing > limits.parserHighWater) {
      paused = true;
      pty.pause();
    }
    terminal.write(data, () => {
      parsing -= data.length;
      forward(data);
      if (paused && parsing <= limits.parserLowWater) {
        paused = false;
        pty.resume();
      }
      if (parsing === 0 && drainWaiters.length > 0) {
        const waiters = drainWaiters;
        drainWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  });

  const setOwner = (next: ViewerState | undefined) => {
    if (owner === next) return;
    owner?.viewer.sendControl({ type: 'terminal-owner', owner: false });
    owner = next;
    owner?.viewer.sendControl({ type: 'terminal-owner', owner: true });
  };

  const applyResize = (cols: number, rows: number) => {
    if (cols === terminal.cols && rows === terminal.rows) return;
    if (exit === undefined) pty.resize(cols, rows);
    terminal.resize(cols, rows);
    options.recording?.resize(cols, rows);
    for (const state of viewers) state.viewer.sendControl({ type: 'terminal-resized', cols, rows });
  };

  return {
    get viewerCount() {
      return viewers.size;
    },
    attach(viewer) {
      attachCounter += 1;
      const state: ViewerState = {
        viewer,
        sent: 0,
        acknowledged: 0,
        behind: false,
        attachedAt: attachCounter,
      };
      viewers.add(state);
      viewer.sendControl(snapshotOf());
      if (exit) viewer.sendControl({ type: 'terminal-exited', code: exit.code, signal: exit.signal });
      // The newest viewer owns the size: the screen someone just opened is the one they look at.
      setOwner(state);
      return {
        // A detached viewer (its socket closed, its login ended) types and resizes nothing any more.
        input(data) {
          if (exit === undefined && data.length > 0 && viewers.has(state)) pty.write(data);
        },
        resize(cols, rows) {
          if (!viewers.has(state) || owner !== state || !Number.isInteger(cols) || !Number.isInteger(rows))
            return;
          if (cols < 2 || rows < 1 || cols > 1000 || rows > 500) return;
          clearTimeout(resizeTimer);
          resizeTimer = setTimeout(() => applyResize(cols, rows), limits.resizeDebounceMs);
        },
        acknowledge(bytes) {
          if (!Number.isFinite(bytes) || bytes <= 0) return;
          state.acknowledged = Math.min(state.sent, state.acknowledged + bytes);
          if (state.behind && state.sent - state.acknowledged <= limits.viewerLowWater) {
            state.behind = false;
            // What it missed is gone; the current screen replaces it.
            state.acknowledged = state.sent;
            viewer.sendControl(snapshotOf());
          }
        },
        detach() {
          if (!viewers.delete(state)) return;
          if (owner === state) {
            owner = undefined;
            const newest = [...viewers].sort((left, right) => right.attachedAt - left.attachedAt)[0];
            setOwner(newest);
          }
        },
      };
    },
    markExited(value) {
      exit = value;
      for (const state of viewers)
        state.viewer.sendControl({ type: 'terminal-exited', code: value.code, signal: value.signal });
    },
    drained() {
      if (parsing === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    dispose() {
      clearTimeout(resizeTimer);
      subscription.dispose();
      viewers.clear();
      owner = undefined;
    },
  };
}
