import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { originAcceptable, originMatchesHost } from './origin.js';

const requestWith = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('Origin checks', () => {
  it('accepts only our own scheme, host and port', () => {
    const host = { host: '127.0.0.1:7777' };
    expect(originMatchesHost(requestWith({ ...host, origin: 'http://127.0.0.1:7777' }), false)).toBe(true);
    expect(originMatchesHost(requestWith({ ...host, origin: 'http://127.0.0.1:7778' }), false)).toBe(false);
    expect(originMatchesHost(requestWith({ ...host, origin: 'https://127.0.0.1:7777' }), false)).toBe(false);
    expect(originMatchesHost(requestWith({ ...host, origin: 'http://localhost:7777' }), false)).toBe(false);
    expect(originMatchesHost(requestWith({ ...host, origin: 'null' }), false)).toBe(false);
    expect(originMatchesHost(requestWith({ ...host, origin: 'not a url' }), false)).toBe(false);
    expect(originMatchesHost(requestWith(host), false)).toBe(false);
    expect(
      originMatchesHost(requestWith({ host: 'warren.example', origin: 'https://warren.example' }), true),
    ).toBe(true);
  });

  it('accepts the HTTPS origin of a local TLS proxy such as `tailscale serve`', () => {
    const forwarded = { host: 'box.tail1234.ts.net', 'x-forwarded-proto': 'https' };
    expect(
      originMatchesHost(requestWith({ ...forwarded, origin: 'https://box.tail1234.ts.net' }), false),
    ).toBe(true);
    expect(originMatchesHost(requestWith({ ...forwarded, origin: 'https://evil.example' }), false)).toBe(
      false,
    );
  });

  it('leaves a request without Origin to the CSRF token unless fetch metadata says cross-site', () => {
    expect(originAcceptable(requestWith({ host: 'h' }), false)).toBe(true);
    expect(originAcceptable(requestWith({ host: 'h', 'sec-fetch-site': 'same-origin' }), false)).toBe(true);
    expect(originAcceptable(requestWith({ host: 'h', 'sec-fetch-site': 'cross-site' }), false)).toBe(false);
    expect(originAcceptable(requestWith({ host: 'h', 'sec-fetch-site': 'same-site' }), false)).toBe(false);
    expect(originAcceptable(requestWith({ host: 'h', origin: 'http://other' }), false)).toBe(false);
  });
});
