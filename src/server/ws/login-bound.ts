import type { WebSocket } from 'ws';
import type { LoginSessionRow } from '../../store/index.js';
import type { LoginEndReason, LoginWatch } from '../auth/login-watch.js';

/**
 * The close code of a socket whose login ended (log out, revoke, password change, expiry): in the
 * 4000-4999 range left to applications, 4401 to read like HTTP 401. The web app then stops
 * reconnecting and shows the login page with the reason.
 */
export const LOGIN_ENDED_CLOSE_CODE = 4401;

const closeReasons: Record<LoginEndReason, string> = {
  'logged-out': 'logged out',
  expired: 'login expired',
  'password-changed': 'password changed',
};

/** A peer that does not answer our close frame within this long is cut off. */
const CLOSE_GRACE_MS = 1000;

export interface LoginBoundSocket {
  /** False once the login ended; cheap (no store read). Gate what the server sends on it. */
  readonly open: boolean;
  /** Reads the login from the store again (and closes the socket if it ended). Gate what the client asks on it. */
  stillLoggedIn(): boolean;
}

/**
 * Ties a WebSocket to the login that opened it: the moment that login ends, the socket is closed
 * with LOGIN_ENDED_CLOSE_CODE and `onEnd` runs (e.g. to detach from a terminal), without waiting
 * for the client's side of the close handshake.
 */
export function bindSocketToLogin(
  socket: WebSocket,
  login: LoginSessionRow,
  watch: LoginWatch,
  onEnd: () => void = () => undefined,
): LoginBoundSocket {
  let open = true;
  const unwatch = watch.watch(login, (reason) => {
    open = false;
    onEnd();
    socket.close(LOGIN_ENDED_CLOSE_CODE, closeReasons[reason]);
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  });
  socket.on('close', unwatch);
  // The login may have ended while the handshake was under way.
  watch.stillActive(login.id);
  return {
    get open() {
      return open;
    },
    stillLoggedIn: () => open && watch.stillActive(login.id),
  };
}
