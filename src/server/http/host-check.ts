import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { WarrenError } from '../../errors/index.js';
import { isLoopbackHost } from '../bind.js';

/**
 * DNS rebinding: a page on evil.example re-points its own name at 127.0.0.1 and then talks to
 * Warren as "evil.example", same-origin in the browser's eyes (so its Origin header matches the Host
 * it sends, and the Origin check passes). What gives it away is that Host names a site Warren does
 * not serve: every request and WebSocket upgrade whose Host is not loopback, the bound address or a
 * configured name is answered 421 before anything else looks at it.
 */
export interface HostCheckOptions {
  /** The address the server listens on, as given to --host. */
  bindAddress: string;
  /** The other names (or addresses) clients use: `serve.hosts` and the --public-url host. */
  names: readonly string[];
  /** The machine's own addresses, allowed when bound to every address (default: the network interfaces). */
  localAddresses?: () => string[];
}

export type HostVerdict = { allowed: true } | { allowed: false; error: WarrenError };

/** What a Host header may hold at all: a name, IPv4 or [IPv6] literal, and a port (no user info, no path). */
const HOST_CHARACTERS = /^[A-Za-z0-9._:[\]-]{1,300}$/;

/**
 * The host part of a Host header (or a configured name) as comparisons need it: lowercase, no
 * port, no brackets, no trailing dot, IP literals in canonical form (URL parsing turns
 * `0x7f.1` into 127.0.0.1 and `[0:0::1]` into ::1, as browsers do). Undefined when malformed.
 */
export function normalizeHost(value: string): string | undefined {
  if (!HOST_CHARACTERS.test(value)) return undefined;
  // A bare IPv6 address (as written in warren.yaml) gets the brackets a URL needs.
  const bracketed = isIP(value) === 6 ? `[${value}]` : value;
  let parsed: URL;
  try {
    parsed = new URL(`http://${bracketed}/`);
  } catch {
    return undefined;
  }
  if (parsed.pathname !== '/' || parsed.username !== '' || parsed.password !== '') return undefined;
  const bare = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return bare === '' || bare.startsWith('.') ? undefined : bare;
}

/** Loopback, including ::ffff:127.x.y.z, which URL parsing writes as ::ffff:7fxx:yyzz. */
function isLoopback(host: string): boolean {
  return isLoopbackHost(host) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

function isUnspecified(host: string | undefined): boolean {
  return host === '0.0.0.0' || host === '::';
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((entry) => entry?.address ?? '')
    .filter((address) => address !== '');
}

/** The names the operator can add, for the 421 body: never the allowed ones (a rebinding page reads it). */
function misdirected(host: string): WarrenError {
  const inUrl = isIP(host) === 6 ? `[${host}]` : host;
  return new WarrenError('misdirected', `this Warren server does not answer to the name "${host}"`, {
    hint:
      `if you reach Warren under this name (tailscale serve, a reverse proxy), add "${host}" to serve.hosts ` +
      `in warren.yaml, or start it with --public-url https://${inUrl}, and restart warren serve`,
  });
}

/** Builds the check run on every request and upgrade. */
export function createHostCheck(options: HostCheckOptions): (hostHeader: string | undefined) => HostVerdict {
  const allowed = new Set<string>();
  for (const name of [options.bindAddress, ...options.names]) {
    const normalized = normalizeHost(name);
    if (normalized === undefined) {
      throw new WarrenError('invalid-config', `"${name}" is not a host name or IP address`, {
        hint: 'serve.hosts and --public-url take names like machine.tailnet.ts.net (no scheme, path or port)',
      });
    }
    // 0.0.0.0 and :: are where to listen, never a name to be reached by: browsers that send them
    // ("0.0.0.0 day") are pages on other sites probing this machine.
    if (!isUnspecified(normalized)) allowed.add(normalized);
  }
  const everyAddress = isUnspecified(normalizeHost(options.bindAddress));
  const localAddresses = options.localAddresses ?? interfaceAddresses;
  // Asked only for IP literals while bound to every address: addresses come and go (DHCP, VPNs).
  const isLocalAddress = (host: string) =>
    everyAddress && isIP(host) !== 0 && localAddresses().some((address) => normalizeHost(address) === host);

  return (hostHeader) => {
    if (hostHeader === undefined || hostHeader === '') {
      return {
        allowed: false,
        error: new WarrenError('invalid-argument', 'the request has no Host header', {
          hint: 'HTTP/1.1 requires one; every browser sends it',
        }),
      };
    }
    const host = normalizeHost(hostHeader);
    if (host === undefined) {
      return { allowed: false, error: new WarrenError('invalid-argument', 'malformed Host header') };
    }
    if (isLoopback(host) || allowed.has(host) || isLocalAddress(host)) return { allowed: true };
    return { allowed: false, error: misdirected(host) };
  };
}

/**
 * Checks --public-url (the address browsers use, e.g. https://machine.tailnet.ts.net): an origin
 * only, since the web app asks for /api at the root.
 */
export function parsePublicUrl(value: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    parsed.pathname !== '/' ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new WarrenError('invalid-argument', `--public-url ${value}: not an origin`, {
      hint: 'give the scheme and name browsers use, e.g. --public-url https://machine.tailnet.ts.net',
    });
  }
  return parsed;
}
