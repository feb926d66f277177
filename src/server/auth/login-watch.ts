import type { LoginSessionRow } from '../../store/index.js';
import type { AuthService, LoginState } from './auth-service.js';

/** Why a watched login ended. */
export type LoginEndReason = Exclude<LoginState, 'active'>;

/**
 * Keeps track of the logins that hold open WebSockets and tells each socket the moment its login
 * ends. Three signals, because logins end in three ways:
 * - in this process (log out, log out other devices, DELETE /api/logins/:id): at once, through
 *   `AuthService.onLoginsEnded`;
 * - in another process (`warren passwd` writes the store directly): by re-reading the watched logins
 *   every `intervalMs`, and before every message a socket acts on (`stillActive`);
 * - by expiry: a timer at the login's `expiresAt`.
 */
export interface LoginWatch {
  /** Calls `end` once, when the login ends; the returned function stops watching. */
  watch(login: LoginSessionRow, end: (reason: LoginEndReason) => void): () => void;
  /** Reads the login from the store now; when it has ended, its watchers are told before this returns. */
  stillActive(loginId: string): boolean;
  /** Stops every timer; nothing is told after this. */
  close(): void;
}

export interface LoginWatchOptions {
  auth: AuthService;
  /** How often watched logins are re-read from the store (default 500 ms). */
  intervalMs?: number;
}

/** setTimeout's largest delay (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Watched {
  expiresAt: number;
  ends: Set<(reason: LoginEndReason) => void>;
  expiryTimer: NodeJS.Timeout | undefined;
}

export function createLoginWatch(options: LoginWatchOptions): LoginWatch {
  const intervalMs = options.intervalMs ?? 500;
  const watched = new Map<string, Watched>();
  let sweepTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const forget = (loginId: string) => {
    const entry = watched.get(loginId);
    if (!entry) return;
    clearTimeout(entry.expiryTimer);
    watched.delete(loginId);
    if (watched.size === 0) {
      clearInterval(sweepTimer);
      sweepTimer = undefined;
    }
  };

  const recheck = (loginId: string): boolean => {
    const entry = watched.get(loginId);
    const state = options.auth.loginState(loginId);
    if (state === 'active') return true;
    if (!entry) return false;
    forget(loginId);
    for (const end of entry.ends) end(state);
    return false;
  };

  const sweep = () => {
    for (const loginId of [...watched.keys()]) recheck(loginId);
  };

  const armExpiry = (loginId: string, entry: Watched) => {
    const delay = Math.min(Math.max(entry.expiresAt - Date.now(), 0), MAX_TIMER_MS);
    entry.expiryTimer = setTimeout(() => {
      // A timer may fire a millisecond early, or be a step of a longer wait: re-arm until it is due.
      if (recheck(loginId) && watched.get(loginId) === entry) armExpiry(loginId, entry);
    }, delay);
    entry.expiryTimer.unref();
  };

  const unsubscribe = options.auth.onLoginsEnded(sweep);

  return {
    watch(login, end) {
      if (closed) return () => undefined;
      let entry = watched.get(login.id);
      if (!entry) {
        entry = { expiresAt: login.expiresAt, ends: new Set(), expiryTimer: undefined };
        watched.set(login.id, entry);
        armExpiry(login.id, entry);
      }
      let told = false;
      const once = (reason: LoginEndReason) => {
        if (told) return;
        told = true;
        end(reason);
      };
      entry.ends.add(once);
      if (sweepTimer === undefined) {
        sweepTimer = setInterval(sweep, intervalMs);
        sweepTimer.unref();
      }
      const current = entry;
      return () => {
        current.ends.delete(once);
        if (current.ends.size === 0 && watched.get(login.id) === current) forget(login.id);
      };
    },
    stillActive: (loginId) => !closed && recheck(loginId),
    close() {
      closed = true;
      unsubscribe();
      for (const loginId of [...watched.keys()]) forget(loginId);
    },
  };
}
