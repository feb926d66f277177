import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import { createAuthService } from './auth-service.js';
import { parseCookies, serializeCookie } from './cookies.js';
import { hashPassword, verifyPassword } from './password.js';
import { createRateLimiter } from './rate-limit.js';
import { hashSecretToken, newSecretToken, secretsEqual } from './tokens.js';

describe('rate limiter', () => {
  it('allows N attempts per window and key, then says when to retry', () => {
    let now = 1_000_000;
    const limiter = createRateLimiter({ attempts: 2, windowMs: 10_000, now: () => now });
    expect(limiter.attempt('a')).toEqual({ allowed: true });
    expect(limiter.attempt('a')).toEqual({ allowed: true });
    expect(limiter.attempt('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limiter.attempt('b')).toEqual({ allowed: true });
    now += 10_000;
    expect(limiter.attempt('a')).toEqual({ allowed: true });
    limiter.reset('a');
    expect(limiter.attempt('a')).toEqual({ allowed: true });
  });

  it('refuses new keys rather than forgetting live ones when full', () => {
    const limiter = createRateLimiter({ attempts: 1, windowMs: 10_000, maxKeys: 2, now: () => 5 });
    expect(limiter.attempt('a').allowed).toBe(true);
    expect(limiter.attempt('b').allowed).toBe(true);
    expect(limiter.attempt('c').allowed).toBe(false);
    expect(limiter.attempt('a').allowed).toBe(false);
  });
});

describe('cookies and tokens', () => {
  it('parses cookie headers leniently and keeps the first of duplicate names', () => {
    const cookies = parseCookies('a=1; bad; b = 2 ;a=3; =x');
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('serializes HttpOnly SameSite=Strict cookies, Secure on request', () => {
    expect(serializeCookie('n', 'v', { maxAgeSeconds: 60, secure: false })).toBe(
      'n=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    expect(serializeCookie('n', 'v', { maxAgeSeconds: 60, secure: true })).toMatch(/; Secure$/);
  });

  it('makes 256-bit tokens and compares secrets in constant time', () => {
    const token = newSecretToken();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(newSecretToken()).not.toBe(token);
    expect(hashSecretToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(secretsEqual(token, token)).toBe(true);
    expect(secretsEqual(token, `${token}x`)).toBe(false);
    expect(secretsEqual('', token)).toBe(false);
  });
});

describe('passwords', () => {
  it('hashes with Argon2id and verifies, failing closed on a malformed hash', async () => {
    const hash = await hashPassword('a long enough password');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await hashPassword('a long enough password')).not.toBe(hash);
    expect(await verifyPassword('a long enough password', hash)).toBe(true);
    expect(await verifyPassword('a long enough passworD', hash)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  });
});

describe('auth service', () => {
  it('expires logins, and ends them all when the password changes', async () => {
    let now = 1_000_000;
    const store = openStore(':memory:');
    const auth = createAuthService({
      auth: store.auth,
      secureCookies: true,
      loginLifetimeMs: 60_000,
      now: () => now,
    });
    expect(auth.cookieName).toBe('__Host-warren_session');
    expect(auth.needsSetup()).toBe(true);
    const token = auth.issueSetupToken() as string;
    const { cookie } = await auth.completeSetup(token, 'first long password', {
      address: 'x',
      userAgent: 'test',
    });
    expect(cookie).toContain('Secure');
    const header = cookie.split(';')[0] as string;
    expect(auth.authenticate(header)?.user.name).toBe('admin');
    now += 61_000;
    expect(auth.authenticate(header)).toBeUndefined();
    const second = await auth.login('first long password', { address: 'x', userAgent: 'test' });
    const secondHeader = second.cookie.split(';')[0] as string;
    expect(auth.authenticate(secondHeader)).toBeDefined();
    now += 1;
    store.auth.setPassword('admin', await hashPassword('second long password'), now);
    expect(auth.authenticate(secondHeader)).toBeUndefined();
    await expect(auth.login('first long password', { address: 'x', userAgent: 'test' })).rejects.toThrow(
      'wrong password',
    );
    expect(auth.issueSetupToken()).toBeUndefined();
    store.close();
  });
});
