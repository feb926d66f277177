import type { WebSocket } from 'ws';
import type { EventHub } from '../events.js';
import type { LoginBoundSocket } from './login-bound.js';

/**
 * Sends every server event as one JSON text frame, until the socket closes or its login ends. Slow
 * readers are cut off.
 */
export function connectEventsSocket(
  socket: WebSocket,
  hub: EventHub,
  bindLogin: (onEnd: () => void) => LoginBoundSocket,
): void {
  let unsubscribe = () => {};
  const login = bindLogin(() => unsubscribe());
  if (!login.open) return;
  unsubscribe = hub.subscribe((event) => {
    if (socket.readyState !== socket.OPEN || !login.open) return;
    // A reader this far behind would only grow our memory; it can reconnect and reload.
    if (socket.bufferedAmount > 8 * 1024 * 1024) {
      socket.close(1013, 'too far behind');
      return;
    }
    socket.send(JSON.stringify(event));
  });
  socket.on('close', unsubscribe);
  socket.on('error', unsubscribe);
}
