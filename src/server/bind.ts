import { isIP } from 'node:net';
import { WarrenError } from '../errors/index.js';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (bare.startsWith('::ffff:')) return bare.slice(7).startsWith('127.');
  return false;
}

/**
 * Serving over plain HTTP beyond this machine would send the password and the session cookie in
 * clear text: refused unless TLS is configured or the operator insists.
 */
export function checkBind(options: { host: string; tls: boolean; forceInsecureBind: boolean }): void {
  if (options.tls || options.forceInsecureBind || isLoopbackHost(options.host)) return;
  throw new WarrenError(
    'invalid-argument',
    `refusing to serve plain HTTP on ${options.host}: the password and session cookies would cross the network unencrypted`,
    {
      hint:
        'keep the default --host 127.0.0.1 and put `tailscale serve 7777` (or another HTTPS reverse proxy) in front, ' +
        'or pass --tls-cert and --tls-key, or --force-insecure-bind if this network is trusted',
    },
  );
}
