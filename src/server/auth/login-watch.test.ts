import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.js';
import { createAuthService, type AuthService } from './auth-service.js';
import { createLoginWatch, type LoginEndReason, type LoginWatch } from './login-watch.js';

const client = { address: '127.0.0.1', userAgent: 'test' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LoginWatch', () => {
  let store: Store;
  let watch: LoginWatch | undefined;
  afterEach(() => {
    watch?.close();
    store.close();
  });

  async function loggedIn(lifetimeMs?: number): Promise<AuthService> {
    store = openStore(':memory:');
    const auth = createAuthService({
      auth: store.auth,
      secureCookies: false,
      ...(lifetimeMs !== undefined ? { loginLifetimeMs: lifetimeMs } : {}),
    });
    await auth.completeSetup(auth.issueSetupToken() as string, 'a long enough password', client);
    return auth;
  }

  it('tells each watcher once, with the reason, when this process revokes the login', async () => {
    const auth = await loggedIn();
    const { authenticated } = await auth.login('a long enough password', client);
    watch = createLoginWatch({ auth, intervalMs: 600_000 });
    const told: LoginEndReason[] = [];
    watch.watch(authenticated.login, (reason) => told.push(reason));
    watch.watch(authenticated.login, (reason) => told.push(reason));
    expect(watch.stillActive(authenticated.login.id)).toBe(true);
    auth.revokeOtherLogins(authenticated.user.id, 'another login');
    expect(told).toEqual(['logged-out', 'logged-out']);
    expect(watch.stillActive(authenticated.login.id)).toBe(false);
    expect(told).toHaveLength(2);
  });

  it('notices a password changed in the store by another writer, on the next check', async () => {
    const auth = await loggedIn();
    const { authenticated } = await auth.login('a long enough password', client);
    watch = createLoginWatch({ auth, intervalMs: 600_000 });
    const told: LoginEndReason[] = [];
    watch.watch(authenticated.login, (reason) => told.push(reason));
    // What `warren passwd` does, without going through this AuthService.
    store.auth.setPassword('admin', 'another hash', Date.now() + 1);
    expect(told).toEqual([]);
    expect(watch.stillActive(authenticated.login.id)).toBe(false);
    expect(told).toEqual(['password-changed']);
  });

  it('waits out a 30-day login without busy timers (setTimeout caps at 24.8 days)', async () => {
    const auth = await loggedIn();
    const { authenticated } = await auth.login('a long enough password', client);
    let reads = 0;
    const counting: AuthService = {
      ...auth,
      loginState(loginId) {
        reads += 1;
        return auth.loginState(loginId);
      },
    };
    watch = createLoginWatch({ auth: counting, intervalMs: 600_000 });
    const told: LoginEndReason[] = [];
    watch.watch(authenticated.login, (reason) => told.push(reason));
    await sleep(200);
    expect(reads).toBe(0);
    expect(told).toEqual([]);
  });

  it('stops its timers once the last watcher leaves or it is closed', async () => {
    const auth = await loggedIn(150);
    const { authenticated } = await auth.login('a long enough password', client);
    watch = createLoginWatch({ auth, intervalMs: 20 });
    const told: LoginEndReason[] = [];
    const stop = watch.watch(authenticated.login, (reason) => told.push(reason));
    stop();
    await sleep(300);
    expect(told).toEqual([]);
    watch.watch(authenticated.login, (reason) => told.push(reason));
    watch.close();
    await sleep(300);
    expect(told).toEqual([]);
  });
});
