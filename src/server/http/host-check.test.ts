import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createHostCheck, normalizeHost, parsePublicUrl } from './host-check.js';

const verdicts = (check: ReturnType<typeof createHostCheck>, hosts: (string | undefined)[]) =>
  hosts.map((host) => {
    const verdict = check(host);
    return verdict.allowed ? 'allowed' : String(verdict.error.code);
  });

describe('Host check', () => {
  it('normalizes case, port, brackets, a trailing dot and IP spellings; refuses anything else', () => {
    expect(normalizeHost('Warren.Example.TS.net.:443')).toBe('warren.example.ts.net');
    expect(normalizeHost('[::1]:7777')).toBe('::1');
    expect(normalizeHost('[0:0:0:0:0:0:0:1]')).toBe('::1');
    expect(normalizeHost('::1')).toBe('::1');
    expect(normalizeHost('2130706433:7777')).toBe('127.0.0.1');
    expect(normalizeHost('0x7f.1')).toBe('127.0.0.1');
    for (const malformed of [
      'evil.example@127.0.0.1',
      '127.0.0.1/x',
      'a b',
      '127.0.0.1:99999',
      '127.0.0.1:port',
      '[::1',
      '.',
      '',
      'evil.example%2f',
    ]) {
      expect(normalizeHost(malformed), malformed).toBeUndefined();
    }
  });

  it('bound to loopback: loopback and configured names pass, any other name is misdirected', () => {
    const check = createHostCheck({ bindAddress: '127.0.0.1', names: ['warren.tailnet.ts.net'] });
    expect(
      verdicts(check, [
        '127.0.0.1:7777',
        '127.0.0.2',
        'localhost:7777',
        'LOCALHOST.:7777',
        '[::1]:7777',
        '[::ffff:127.0.0.1]:7777',
        'warren.tailnet.ts.net',
        'Warren.Tailnet.TS.net.:8443',
      ]),
    ).toEqual(Array(8).fill('allowed'));
    expect(
      verdicts(check, [
        'evil.example:7777',
        'localhost.evil.example',
        '127.0.0.1.nip.io',
        'warren.tailnet.ts.net.evil.example',
        '0.0.0.0:7777',
        '[::]:7777',
        '192.168.1.10:7777',
      ]),
    ).toEqual(Array(7).fill('misdirected'));
    expect(verdicts(check, [undefined, '', 'evil@127.0.0.1'])).toEqual(Array(3).fill('invalid-argument'));
  });

  it('says what to configure, without naming what is allowed (a rebinding page can read it)', () => {
    const check = createHostCheck({ bindAddress: '127.0.0.1', names: ['secret-box.tailnet.ts.net'] });
    const verdict = check('evil.example:7777');
    expect(verdict.allowed).toBe(false);
    if (verdict.allowed) return;
    expect(verdict.error.message).toContain('"evil.example"');
    expect(verdict.error.hint).toContain('serve.hosts');
    expect(verdict.error.hint).toContain('--public-url https://evil.example');
    expect(`${verdict.error.message} ${verdict.error.hint ?? ''}`).not.toContain('secret-box');
  });

  it("bound to 0.0.0.0 or ::: the machine's own addresses pass as IP literals, never 0.0.0.0 itself", () => {
    for (const bindAddress of ['0.0.0.0', '::']) {
      const check = createHostCheck({
        bindAddress,
        names: [],
        localAddresses: () => ['127.0.0.1', '192.168.1.10', 'fe80::1', '100.64.0.7'],
      });
      expect(verdicts(check, ['192.168.1.10:7777', '[fe80::1]:7777', '100.64.0.7', 'localhost'])).toEqual(
        Array(4).fill('allowed'),
      );
      expect(verdicts(check, ['192.168.1.11', '0.0.0.0:7777', '[::]', 'evil.example'])).toEqual(
        Array(4).fill('misdirected'),
      );
    }
    // With the real interfaces: every address of this machine passes, when (and only when) bound to all.
    const own = Object.values(networkInterfaces())
      .flat()
      .map((entry) => entry?.address ?? '')
      .filter((address) => address !== '' && !address.startsWith('127.') && address !== '::1');
    const everywhere = createHostCheck({ bindAddress: '0.0.0.0', names: [] });
    const loopbackOnly = createHostCheck({ bindAddress: '127.0.0.1', names: [] });
    for (const address of own) {
      const host = address.includes(':') ? `[${address}]:7777` : `${address}:7777`;
      expect(everywhere(host).allowed, address).toBe(true);
      expect(loopbackOnly(host).allowed, address).toBe(false);
    }
  });

  it('bound to one address: that address passes', () => {
    const check = createHostCheck({ bindAddress: '192.168.1.10', names: [] });
    expect(verdicts(check, ['192.168.1.10:7777', 'localhost', '192.168.1.11'])).toEqual([
      'allowed',
      'allowed',
      'misdirected',
    ]);
  });

  it('refuses a configured name that is not a host name, and a --public-url that is not an origin', () => {
    expect(() => createHostCheck({ bindAddress: '127.0.0.1', names: ['https://x.example/'] })).toThrow(
      /not a host name/,
    );
    expect(parsePublicUrl('https://warren.tailnet.ts.net').hostname).toBe('warren.tailnet.ts.net');
    expect(parsePublicUrl('https://[::1]:8443/').hostname).toBe('[::1]');
    for (const bad of [
      'warren.tailnet.ts.net',
      'ftp://x.example',
      'https://x.example/warren',
      'https://u:p@x.example',
    ]) {
      expect(() => parsePublicUrl(bad), bad).toThrow(/not an origin/);
    }
  });
});
