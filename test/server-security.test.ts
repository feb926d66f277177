import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { setUpAndLogIn, startAppHarness, type AppHarness } from './e2e/app-harness.js';

/** Opens a WebSocket and reports how the handshake ended. */
function handshake(
  url: string,
  headers: Record<string, string>,
): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_request, response) =>
      resolve({ opened: false, status: response.statusCode ?? 0 }),
    );
    socket.once('error', () => resolve({ opened: false }));
  });
}

describe('warren serve: security', () => {
  let harness: AppHarness;
  afterEach(async () => {
    await harness.close();
  });

  it('answers 401 with a JSON error to API calls without a login cookie', async () => {
    harness = await startAppHarness();
    for (const path of ['/api/sessions', '/api/me', '/api/sessions/s-1/flows', '/api/logins']) {
      const response = await fetch(`${harness.url}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: 'log in first' } });
    }
    const forged = await fetch(`${harness.url}/api/sessions`, {
      headers: { Cookie: 'warren_session=forged-token' },
    });
    expect(forged.status).toBe(401);
  });

  it('sets an HttpOnly, SameSite=Strict cookie and keeps only the hash of its token', async () => {
    harness = await startAppHarness();
    const token = harness.auth.issueSetupToken() as string;
    const response = await fetch(`${harness.url}/api/setup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: harness.origin },
      body: JSON.stringify({ token, password: 'a long enough password' }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^warren_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const value = /^warren_session=([\w-]+)/.exec(cookie)?.[1] as string;
    const stored = harness.store.database.prepare('SELECT id FROM login_sessions').all() as { id: string }[];
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).not.toContain(value);
    expect(stored[0]?.id).toMatch(/^[0-9a-f]{64}$/);
    const hash = harness.store.database.prepare('SELECT password_hash FROM users').get() as {
      password_hash: string;
    };
    expect(hash.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('accepts the setup token once only', async () => {
    harness = await startAppHarness();
    const token = harness.auth.issueSetupToken() as string;
    const setup = (body: unknown) =>
      fetch(`${harness.url}/api/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: harness.origin },
        body: JSON.stringify(body),
      });
    expect((await setup({ token: 'wrong', password: 'a long enough password' })).status).toBe(401);
    expect((await setup({ token, password: 'short' })).status).toBe(400);
    expect((await setup({ token, password: 'a long enough password' })).status).toBe(200);
    expect((await setup({ token, password: 'another long password' })).status).toBe(409);
  });

  it('refuses a state-changing request without the CSRF token, or with a foreign Origin', async () => {
    harness = await startAppHarness();
    const { cookie, csrf } = await setUpAndLogIn(harness);
    const create = (headers: Record<string, string>) =>
      fetch(`${harness.url}/api/sessions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: cookie, ...headers },
        body: JSON.stringify({ agent: 'custom', command: 'true' }),
      });
    const missing = await create({ Origin: harness.origin });
    expect(missing.status).toBe(403);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      'X-CSRF-Token',
    );
    expect((await create({ Origin: harness.origin, 'X-CSRF-Token': 'guess' })).status).toBe(403);
    expect((await create({ Origin: 'https://evil.example', 'X-CSRF-Token': csrf })).status).toBe(403);
    expect((await create({ 'Sec-Fetch-Site': 'cross-site', 'X-CSRF-Token': csrf })).status).toBe(403);
    // Login itself is protected against login CSRF by the Origin check.
    const crossLogin = await fetch(`${harness.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: JSON.stringify({ password: 'correct horse battery' }),
    });
    expect(crossLogin.status).toBe(403);
    const allowed = await create({ Origin: harness.origin, 'X-CSRF-Token': csrf });
    expect(allowed.status).toBe(201);
  });

  it('refuses WebSocket upgrades from another origin or without a login', async () => {
    harness = await startAppHarness();
    const { cookie } = await setUpAndLogIn(harness);
    const events = `${harness.url.replace('http', 'ws')}/api/events`;
    expect(await handshake(events, { Cookie: cookie, Origin: 'https://evil.example' })).toEqual({
      opened: false,
      status: 403,
    });
    expect(await handshake(events, { Cookie: cookie })).toEqual({ opened: false, status: 403 });
    expect(await handshake(events, { Origin: harness.origin })).toEqual({ opened: false, status: 401 });
    expect(await handshake(events, { Cookie: cookie, Origin: harness.origin })).toEqual({ opened: true });
  });

  it('rate-limits login attempts per client address, even with the right password afterwards', async () => {
    harness = await startAppHarness({ loginAttempts: { attempts: 5, windowMs: 60_000 } });
    await setUpAndLogIn(harness, 'the right password');
    const attempt = (password: string) =>
      fetch(`${harness.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: harness.origin },
        body: JSON.stringify({ password }),
      });
    const statuses: number[] = [];
    for (let index = 0; index < 7; index += 1) statuses.push((await attempt(`guess number ${index}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const blocked = await attempt('the right password');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('rate-limited');
  });

  it('logs out, lists logins and revokes the other devices', async () => {
    harness = await startAppHarness();
    const first = await setUpAndLogIn(harness, 'the right password');
    const login = async () => {
      const response = await fetch(`${harness.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: harness.origin, 'User-Agent': 'phone' },
        body: JSON.stringify({ password: 'the right password' }),
      });
      expect(response.status).toBe(200);
      return {
        cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] as string,
        csrf: ((await response.json()) as { csrfToken: string }).csrfToken,
      };
    };
    const second = await login();
    const third = await login();
    const list = await fetch(`${harness.url}/api/logins`, { headers: { Cookie: first.cookie } });
    const { logins } = (await list.json()) as { logins: { current: boolean; userAgent: string }[] };
    expect(logins).toHaveLength(3);
    expect(logins.filter((entry) => entry.current)).toHaveLength(1);
    const logout = await fetch(`${harness.url}/api/logout`, {
      method: 'POST',
      headers: { Cookie: second.cookie, 'X-CSRF-Token': second.csrf, Origin: harness.origin },
    });
    expect(logout.status).toBe(200);
    expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${harness.url}/api/me`, { headers: { Cookie: second.cookie } })).status).toBe(401);
    const revoke = await fetch(`${harness.url}/api/logins/revoke-others`, {
      method: 'POST',
      headers: { Cookie: first.cookie, 'X-CSRF-Token': first.csrf, Origin: harness.origin },
    });
    expect(await revoke.json()).toEqual({ revoked: 1 });
    expect((await fetch(`${harness.url}/api/me`, { headers: { Cookie: third.cookie } })).status).toBe(401);
    expect((await fetch(`${harness.url}/api/me`, { headers: { Cookie: first.cookie } })).status).toBe(200);
  });

  it('serves the web app with a strict Content-Security-Policy and never serves files outside it', async () => {
    harness = await startAppHarness();
    const page = await fetch(`${harness.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const escape = await fetch(`${harness.url}/%2e%2e/%2e%2e/package.json`);
    expect(await escape.text()).not.toContain('"name": "warren"');
  });
});
