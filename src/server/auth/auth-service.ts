import { WarrenError } from '../../errors/index.js';
import type { AuthRepository, LoginSessionRow, UserRow } from '../../store/index.js';
import { parseCookies, serializeCookie } from './cookies.js';
import { checkPasswordStrength, hashPassword, verifyPassword } from './password.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { hashSecretToken, newSecretToken, secretsEqual } from './tokens.js';

/** The one operator account. */
export const OPERATOR_NAME = 'admin';

export interface AuthServiceOptions {
  auth: AuthRepository;
  /** Cookies get `Secure` (and the `__Host-` prefix) when the server speaks HTTPS. */
  secureCookies: boolean;
  loginLifetimeMs?: number;
  loginAttempts?: { attempts: number; windowMs: number };
  now?: () => number;
}

export interface ClientFacts {
  address: string;
  userAgent: string;
}

export interface Authenticated {
  user: UserRow;
  login: LoginSessionRow;
}

/** Whether a login still counts, and if not, why it ended. */
export type LoginState = 'active' | 'logged-out' | 'expired' | 'password-changed';

export interface AuthService {
  cookieName: string;
  /** True until a password exists. */
  needsSetup(): boolean;
  /** A fresh one-time setup token (replacing any earlier one), or undefined when a password exists. */
  issueSetupToken(): string | undefined;
  /** Sets the first password with the setup token, and logs in. The token works once. */
  completeSetup(
    token: string,
    password: string,
    client: ClientFacts,
  ): Promise<{ cookie: string; authenticated: Authenticated }>;
  login(password: string, client: ClientFacts): Promise<{ cookie: string; authenticated: Authenticated }>;
  /** The login session named by the request's cookie, if it is valid now. */
  authenticate(cookieHeader: string | undefined): Authenticated | undefined;
  /**
   * Reads the login from the store again: it may have been revoked by another process
   * (`warren passwd`) since it was authenticated.
   */
  loginState(loginId: string): LoginState;
  /** Called after this process ended one or more logins (log out, revoke); returns an unsubscribe. */
  onLoginsEnded(listener: () => void): () => void;
  logout(loginId: string): string;
  listLogins(userId: number): LoginSessionRow[];
  revokeLogin(userId: number, loginId: string): boolean;
  revokeOtherLogins(userId: number, keepId: string): number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createAuthService(options: AuthServiceOptions): AuthService {
  const now = options.now ?? Date.now;
  const lifetimeMs = options.loginLifetimeMs ?? 30 * DAY_MS;
  const cookieName = options.secureCookies ? '__Host-warren_session' : 'warren_session';
  const limiter: RateLimiter = createRateLimiter({
    ...(options.loginAttempts ?? { attempts: 10, windowMs: 5 * 60 * 1000 }),
    now,
  });
  let setupTokenHash: string | undefined;
  const endedListeners = new Set<() => void>();
  const loginsEnded = () => {
    for (const listener of endedListeners) listener();
  };

  /** The one rule for whether a login counts at `at`; the user comes along for authenticate. */
  const judge = (
    login: LoginSessionRow | undefined,
    at: number,
  ): { state: 'active'; user: UserRow } | { state: Exclude<LoginState, 'active'> } => {
    if (!login) return { state: 'logged-out' };
    const user = options.auth.findUser(OPERATOR_NAME);
    // A login from before the last password change no longer counts.
    if (!user || user.id !== login.userId || login.createdAt < user.passwordChangedAt)
      return { state: 'password-changed' };
    if (login.revokedAt !== null) return { state: 'logged-out' };
    if (login.expiresAt <= at) return { state: 'expired' };
    return { state: 'active', user };
  };

  const cookieFor = (token: string, maxAgeMs: number) =>
    serializeCookie(cookieName, token, {
      maxAgeSeconds: Math.floor(maxAgeMs / 1000),
      secure: options.secureCookies,
    });

  const startLogin = (user: UserRow, client: ClientFacts) => {
    const token = newSecretToken();
    const createdAt = now();
    const login = options.auth.createLogin({
      id: hashSecretToken(token),
      userId: user.id,
      csrfToken: newSecretToken(),
      createdAt,
      expiresAt: createdAt + lifetimeMs,
      userAgent: client.userAgent.slice(0, 300),
      address: client.address,
    });
    return { cookie: cookieFor(token, lifetimeMs), authenticated: { user, login } };
  };

  const limit = (client: ClientFacts) => {
    const verdict = limiter.attempt(client.address);
    if (!verdict.allowed) {
      throw new WarrenError('rate-limited', 'too many attempts from this address', {
        hint: `wait ${verdict.retryAfterSeconds} s before trying again`,
        cause: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
  };

  return {
    cookieName,
    needsSetup: () => options.auth.findUser(OPERATOR_NAME) === undefined,
    issueSetupToken() {
      if (options.auth.findUser(OPERATOR_NAME)) return undefined;
      const token = newSecretToken();
      setupTokenHash = hashSecretToken(token);
      return token;
    },
    async completeSetup(token, password, client) {
      limit(client);
      if (options.auth.findUser(OPERATOR_NAME) || setupTokenHash === undefined) {
        throw new WarrenError('conflict', 'the password is already set', {
          hint: 'log in, or run `warren passwd` to change it',
        });
      }
      if (!secretsEqual(hashSecretToken(token), setupTokenHash)) {
        throw new WarrenError('unauthorized', 'this setup link is not valid', {
          hint: 'use the link printed by the latest `warren serve`, or set the password with `warren passwd`',
        });
      }
      checkPasswordStrength(password);
      const hash = await hashPassword(password);
      setupTokenHash = undefined;
      limiter.reset(client.address);
      return startLogin(options.auth.setPassword(OPERATOR_NAME, hash, now()), client);
    },
    async login(password, client) {
      limit(client);
      const user = options.auth.findUser(OPERATOR_NAME);
      if (!user) {
        throw new WarrenError('conflict', 'no password is set yet', {
          hint: 'open the setup link printed by `warren serve`, or run `warren passwd`',
        });
      }
      if (!(await verifyPassword(password, user.passwordHash))) {
        throw new WarrenError('unauthorized', 'wrong password');
      }
      limiter.reset(client.address);
      return startLogin(user, client);
    },
    authenticate(cookieHeader) {
      const token = parseCookies(cookieHeader).get(cookieName);
      if (!token || token.length > 100) return undefined;
      const at = now();
      const login = options.auth.findActiveLogin(hashSecretToken(token), at);
      const verdict = judge(login, at);
      if (!login || verdict.state !== 'active') return undefined;
      if (at - login.lastSeenAt > 60_000) options.auth.touchLogin(login.id, at);
      return { user: verdict.user, login };
    },
    loginState: (loginId) => judge(options.auth.findLogin(loginId), now()).state,
    onLoginsEnded(listener) {
      endedListeners.add(listener);
      return () => endedListeners.delete(listener);
    },
    logout(loginId) {
      if (options.auth.revokeLogin(loginId, now())) loginsEnded();
      return cookieFor('', 0);
    },
    listLogins: (userId) => options.auth.listActiveLogins(userId, now()),
    revokeLogin(userId, loginId) {
      const owned = options.auth.listActiveLogins(userId, now()).some((login) => login.id === loginId);
      const revoked = owned && options.auth.revokeLogin(loginId, now());
      if (revoked) loginsEnded();
      return revoked;
    },
    revokeOtherLogins(userId, keepId) {
      const revoked = options.auth.revokeOtherLogins(userId, keepId, now());
      if (revoked > 0) loginsEnded();
      return revoked;
    },
  };
}
