import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { LOGIN_ENDED_CLOSE_CODE, socketUrl } from './api.js';

type ServerMessage =
  | { type: 'terminal-snapshot'; data: string; cols: number; rows: number }
  | { type: 'terminal-resized'; cols: number; rows: number }
  | { type: 'terminal-owner'; owner: boolean }
  | { type: 'terminal-exited'; code: number | null; signal: string | null };

export interface TerminalView {
  /** Sends keys as if typed (the mobile key row). */
  sendKeys(data: string): void;
  focus(): void;
  /** Cursor keys in the terminal's current mode (applications like vim switch to SS3 sequences). */
  arrow(direction: 'A' | 'B' | 'C' | 'D'): string;
  dispose(): void;
}

export interface TerminalViewOptions {
  sessionId: string;
  container: HTMLElement;
  onStatus(status: string): void;
  onOutput(): void;
  onExit(code: number | null, signal: string | null): void;
  /** The server closed the socket because this device's login ended (the reason says how). */
  onLoggedOut(reason: string): void;
}

/**
 * xterm.js bound to the session's terminal socket. The server owns the screen: a snapshot on every
 * (re)connect, then live output, which is acknowledged once drawn so that the server can tell a slow
 * viewer from a fast one.
 */
export function openTerminalView(options: TerminalViewOptions): TerminalView {
  const terminal = new Terminal({
    cursorBlink: true,
    fontSize: window.innerWidth < 600 ? 12 : 14,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
    scrollback: 5000,
    lineHeight: 1.15,
    allowProposedApi: true,
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(options.container);
  let socket: WebSocket | undefined;
  let owner = false;
  let disposed = false;
  let retryMs = 500;
  let unacknowledged = 0;
  let ackTimer: number | undefined;
  let resizeTimer: number | undefined;
  let decoder = new TextDecoder();

  const send = (message: unknown) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const flushAck = () => {
    ackTimer = undefined;
    if (unacknowledged > 0) send({ type: 'ack', bytes: unacknowledged });
    unacknowledged = 0;
  };
  const acknowledge = (bytes: number) => {
    unacknowledged += bytes;
    if (unacknowledged > 64 * 1024) flushAck();
    else ackTimer ??= window.setTimeout(flushAck, 30);
  };
  const sendSize = () => {
    if (!owner) return;
    const proposed = fit.proposeDimensions();
    if (proposed && proposed.cols > 1 && proposed.rows > 0)
      send({ type: 'resize', cols: proposed.cols, rows: proposed.rows });
  };
  const onWindowResize = () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(sendSize, 100);
  };
  const observer = new ResizeObserver(onWindowResize);
  observer.observe(options.container);

  const handle = (message: ServerMessage) => {
    switch (message.type) {
      case 'terminal-snapshot':
        decoder = new TextDecoder();
        terminal.reset();
        terminal.resize(message.cols, message.rows);
        terminal.write(message.data);
        break;
      case 'terminal-resized':
        terminal.resize(message.cols, message.rows);
        break;
      case 'terminal-owner':
        owner = message.owner;
        sendSize();
        break;
      case 'terminal-exited':
        options.onExit(message.code, message.signal);
        break;
    }
  };

  const connect = () => {
    options.onStatus('connecting');
    const ws = new WebSocket(socketUrl(`/api/sessions/${encodeURIComponent(options.sessionId)}/terminal`));
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      options.onStatus('connected');
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') {
        handle(JSON.parse(event.data) as ServerMessage);
        return;
      }
      const bytes = event.data.byteLength;
      terminal.write(decoder.decode(event.data, { stream: true }), () => acknowledge(bytes));
      options.onOutput();
    };
    ws.onclose = (event) => {
      if (disposed) return;
      if (event.code === LOGIN_ENDED_CLOSE_CODE) {
        options.onStatus('logged out');
        options.onLoggedOut(event.reason);
        return;
      }
      options.onStatus('disconnected, reconnecting…');
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };
  terminal.onData((data) => send({ type: 'input', data }));
  connect();

  return {
    sendKeys(data) {
      send({ type: 'input', data });
      terminal.focus();
    },
    focus: () => terminal.focus(),
    arrow: (direction) =>
      terminal.modes.applicationCursorKeysMode ? `\x1bO${direction}` : `\x1b[${direction}`,
    dispose() {
      disposed = true;
      observer.disconnect();
      window.clearTimeout(ackTimer);
      window.clearTimeout(resizeTimer);
      socket?.close();
      terminal.dispose();
    },
  };
}
