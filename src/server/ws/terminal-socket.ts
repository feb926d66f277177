import type { WebSocket } from 'ws';
import type { PtyHost } from '../../sessions/index.js';
import type { LoginBoundSocket } from './login-bound.js';

/** What a browser may send over a terminal socket; anything else is ignored. */
type TerminalClientMessage =
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ack'; bytes: number };

function parseClientMessage(text: string): TerminalClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.type === 'input' && typeof message.data === 'string')
    return { type: 'input', data: message.data };
  if (message.type === 'resize' && typeof message.cols === 'number' && typeof message.rows === 'number') {
    return { type: 'resize', cols: message.cols, rows: message.rows };
  }
  if (message.type === 'ack' && typeof message.bytes === 'number')
    return { type: 'ack', bytes: message.bytes };
  return undefined;
}

/**
 * Binds one WebSocket to a session's terminal: binary frames carry output, text frames carry JSON
 * control messages both ways (see docs/api.md, "Terminal socket"). The login is checked against the
 * store before every input or resize, so that no keystroke sent after the login ended reaches the PTY.
 */
export function connectTerminalSocket(
  socket: WebSocket,
  host: PtyHost,
  bindLogin: (onEnd: () => void) => LoginBoundSocket,
): void {
  const handle = host.attach({
    sendOutput(data) {
      if (socket.readyState === socket.OPEN) socket.send(data, { binary: true });
    },
    sendControl(message) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
  });
  const login = bindLogin(() => handle.detach());
  socket.on('message', (data, isBinary) => {
    if (isBinary || !login.open) return;
    const message = parseClientMessage(data.toString());
    if (!message) return;
    // Input and resizes act on the session: the login is read from the store first (~30 µs).
    // Acknowledgements, sent every 30 ms while output flows, only pace what we send.
    if (message.type !== 'ack' && !login.stillLoggedIn()) return;
    switch (message.type) {
      case 'input':
        handle.input(message.data);
        break;
      case 'resize':
        handle.resize(message.cols, message.rows);
        break;
      case 'ack':
        handle.acknowledge(message.bytes);
        break;
    }
  });
  socket.on('close', () => handle.detach());
  socket.on('error', () => handle.detach());
}
