import { createRequire } from 'node:module';

type HeadlessModule = typeof import('@xterm/headless');
type SerializeModule = typeof import('@xterm/addon-serialize');

// Both packages ship CommonJS bundles (~20 ms to load). They are required on the first terminal, so
// `warren run`, which imports this folder but never makes a headless terminal, does not pay for them.
const require = createRequire(import.meta.url);
let xterm:
  { Terminal: HeadlessModule['Terminal']; SerializeAddon: SerializeModule['SerializeAddon'] } | undefined;
function loadXterm() {
  xterm ??= {
    Terminal: (require('@xterm/headless') as HeadlessModule).Terminal,
    SerializeAddon: (require('@xterm/addon-serialize') as SerializeModule).SerializeAddon,
  };
  return xterm;
}

/**
 * The server's copy of a session's screen: a headless xterm that parses every byte the PTY writes.
 * It is the source of truth that viewers are brought up to date from, so that a reconnecting browser
 * draws the current screen (full-screen TUIs included) instead of replaying a raw byte backlog.
 */
export interface HeadlessTerminal {
  readonly cols: number;
  readonly rows: number;
  /** Parses `data`; `parsed` runs once the screen reflects it (writes are processed in order). */
  write(data: string, parsed?: () => void): void;
  resize(cols: number, rows: number): void;
  /** Escape sequences that redraw the current screen, scrollback, modes and cursor on a blank terminal. */
  snapshot(): string;
  dispose(): void;
}

export interface HeadlessTerminalOptions {
  cols: number;
  rows: number;
  scrollback?: number;
}

export function createHeadlessTerminal(options: HeadlessTerminalOptions): HeadlessTerminal {
  const { Terminal, SerializeAddon } = loadXterm();
  const terminal = new Terminal({
    cols: options.cols,
    rows: options.rows,
    scrollback: options.scrollback ?? 1000,
    allowProposedApi: true,
  });
  const serializer = new SerializeAddon();
  terminal.loadAddon(serializer);
  return {
    get cols() {
      return terminal.cols;
    },
    get rows() {
      return terminal.rows;
    },
    write(data, parsed) {
      terminal.write(data, parsed);
    },
    resize(cols, rows) {
      terminal.resize(cols, rows);
    },
    snapshot() {
      return serializer.serialize({ scrollback: options.scrollback ?? 1000 });
    },
    dispose() {
      serializer.dispose();
      terminal.dispose();
    },
  };
}
