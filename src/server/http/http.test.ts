import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WarrenError } from '../../errors/index.js';
import { checkBind, isLoopbackHost } from '../bind.js';
import { describeError } from './errors.js';
import { matchRoute, type Route } from './router.js';
import { resolveStaticFile } from './static.js';

describe('router', () => {
  const route = (method: Route<null>['method'], path: string): Route<null> => ({
    method,
    path,
    access: 'login',
    handle: () => undefined,
  });
  const routes = [
    route('GET', '/api/sessions'),
    route('GET', '/api/sessions/:id'),
    route('DELETE', '/api/sessions/:id'),
  ];

  it('matches methods and parameters, and tells a wrong method from an unknown path', () => {
    expect(matchRoute(routes, 'GET', '/api/sessions/s-1%2F')).toMatchObject({ params: { id: 's-1/' } });
    expect(matchRoute(routes, 'DELETE', '/api/sessions/s-1')).toMatchObject({ route: routes[2] });
    expect(matchRoute(routes, 'POST', '/api/sessions/s-1')).toBe('method-not-allowed');
    expect(matchRoute(routes, 'GET', '/api/sessions/')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/api/sessions/%E0%A4%A')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/api/other')).toBeUndefined();
  });
});

describe('errors', () => {
  it('maps Warren codes to statuses in one place and hides unknown errors', () => {
    expect(describeError(new WarrenError('not-found', 'no session x'))).toEqual({
      status: 404,
      body: { error: { code: 'not-found', message: 'no session x' } },
    });
    expect(
      describeError(new WarrenError('rate-limited', 'slow down', { cause: { retryAfterSeconds: 7 } })),
    ).toMatchObject({
      status: 429,
      retryAfterSeconds: 7,
    });
    expect(describeError(new Error('SQLITE secret path /x'))).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error (see the server log)' } },
    });
    // A full disk says so, without its path or SQLite's text.
    const full = describeError(
      Object.assign(new Error('database or disk is full: /secret/warren.db'), { code: 'SQLITE_FULL' }),
    );
    expect(full).toMatchObject({
      status: 503,
      retryAfterSeconds: 30,
      body: { error: { code: 'storage-full' } },
    });
    expect(JSON.stringify(full)).not.toContain('/secret');
  });
});

describe('static files', () => {
  it('serves files under the root only', () => {
    const root = mkdtempSync(join(tmpdir(), 'warren-static-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', 'app.js'), '');
    writeFileSync(join(root, '..', `${root.split('/').pop() ?? ''}-secret`), '');
    expect(resolveStaticFile(root, '/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveStaticFile(root, '/../etc/passwd')).toBeUndefined();
    expect(resolveStaticFile(root, '/%2e%2e/etc/passwd')).toBeUndefined();
    expect(resolveStaticFile(root, `/../${root.split('/').pop() ?? ''}-secret`)).toBeUndefined();
    expect(resolveStaticFile(root, '/assets')).toBeUndefined();
    expect(resolveStaticFile(root, '/a%00b')).toBeUndefined();
  });
});

describe('bind check', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.8.9.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '::ffff:10.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses plain HTTP beyond loopback unless TLS or forced, and says what to do', () => {
    expect(() => checkBind({ host: '0.0.0.0', tls: false, forceInsecureBind: false })).toThrow(
      /refusing to serve plain HTTP/,
    );
    try {
      checkBind({ host: '::', tls: false, forceInsecureBind: false });
    } catch (error) {
      expect((error as WarrenError).hint).toContain('tailscale serve');
    }
    expect(() => checkBind({ host: '0.0.0.0', tls: true, forceInsecureBind: false })).not.toThrow();
    expect(() => checkBind({ host: '0.0.0.0', tls: false, forceInsecureBind: true })).not.toThrow();
    expect(() => checkBind({ host: '127.0.0.1', tls: false, forceInsecureBind: false })).not.toThrow();
  });
});
