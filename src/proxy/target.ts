import type { PolicyDecision } from './policy.js';
import { normalizeHost } from './policy.js';
import type { FlowTls } from './flow.js';

/**
 * Where a request goes, worked out from its request target, its Host header and the CONNECT tunnel it
 * arrived in (if any). Pure: no policy, no DNS.
 */

/** Requests for this host name go to the in-process model gateway, never to the network. */
export const GATEWAY_HOSTNAME = 'gateway.warren.internal';

/** What a CONNECT established; requests inside the tunnel must stay on this host and port. */
export interface TunnelInfo {
  host: string;
  port: number;
  /** The checked IP address to connect to; undefined for the gateway. */
  address: string | undefined;
  gateway: boolean;
  decision: PolicyDecision;
  tls: FlowTls;
  /** When the CONNECT arrived (epoch ms), for the timings of the first request. */
  openedAt: number;
}

export interface Destination {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** origin-form: path and query. */
  path: string;
  url: string;
}

export type RequestTarget =
  | ({ kind: 'gateway' } & Destination)
  | ({ kind: 'forward' } & Destination)
  /** The request names a different host than the one it is allowed to reach: a policy refusal (403). */
  | ({ kind: 'mismatch'; problem: string } & Destination)
  | { kind: 'bad-request'; problem: string; url: string };

export interface Authority {
  host: string;
  port: number;
}

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/** `host`, `host:port`, `[v6]:port`; undefined when malformed or the port is not 1..65535. */
export function parseAuthority(text: string, defaultPort: number | undefined): Authority | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) return undefined; // bare IPv6 needs brackets
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
  }
  if (port === undefined || port < 1 || port > 65535) return undefined;
  host = normalizeHost(host);
  if (host === '' || /[\s/\\@?#]/.test(host)) return undefined;
  return { host, port };
}

export function formatAuthority(scheme: 'http' | 'https', host: string, port: number): string {
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return port === DEFAULT_PORTS[scheme] ? shownHost : `${shownHost}:${port}`;
}

function destination(scheme: 'http' | 'https', host: string, port: number, path: string): Destination {
  return { scheme, host, port, path, url: `${scheme}://${formatAuthority(scheme, host, port)}${path}` };
}

/** The path and query of an absolute URL exactly as the client wrote them (fragment dropped). */
function rawPathOf(url: string): string {
  const authorityStart = url.indexOf('//') + 2;
  const pathStart = url.slice(authorityStart).search(/[/?#]/);
  if (pathStart < 0) return '/';
  let path = url.slice(authorityStart + pathStart);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  return path.startsWith('/') ? path : `/${path}`;
}

function hostMismatch(
  hostHeader: string | undefined,
  expected: Authority,
  scheme: 'http' | 'https',
): string | undefined {
  if (hostHeader === undefined) return undefined;
  const named = parseAuthority(hostHeader, DEFAULT_PORTS[scheme]);
  if (named && named.host === expected.host && named.port === expected.port) return undefined;
  return `the Host header "${hostHeader}" differs from the destination ${formatAuthority(scheme, expected.host, expected.port)}`;
}

function targetInTunnel(url: string, hostHeader: string | undefined, tunnel: TunnelInfo): RequestTarget {
  const scheme = tunnel.tls.mode === 'intercepted' ? 'https' : 'http';
  let path = url;
  if (!url.startsWith('/')) {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? parseAbsolute(url) : undefined;
    if (!absolute || 'problem' in absolute) {
      return { kind: 'bad-request', problem: `the request target "${url}" is not a path`, url };
    }
    path = absolute.path;
    if (absolute.host !== tunnel.host || absolute.port !== tunnel.port) {
      const problem = `the request URL ${url} differs from the CONNECT target ${tunnel.host}:${tunnel.port}`;
      return { kind: 'mismatch', problem, ...destination(scheme, tunnel.host, tunnel.port, path) };
    }
  }
  const place = destination(scheme, tunnel.host, tunnel.port, path);
  const sni = tunnel.tls.sni === undefined ? undefined : normalizeHost(tunnel.tls.sni);
  if (sni !== undefined && sni !== tunnel.host) {
    return {
      kind: 'mismatch',
      problem: `the TLS server name "${sni}" differs from the CONNECT target ${tunnel.host}`,
      ...place,
    };
  }
  const mismatch = hostMismatch(hostHeader, tunnel, scheme);
  if (mismatch) return { kind: 'mismatch', problem: `${mismatch} (the CONNECT target)`, ...place };
  return { kind: tunnel.gateway ? 'gateway' : 'forward', ...place };
}

function parseAbsolute(
  url: string,
): (Authority & { scheme: 'http' | 'https'; path: string }) | { problem: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: `"${url}" is not a valid URL` };
  }
  const protocol = parsed.protocol;
  const scheme =
    protocol === 'http:' || protocol === 'ws:'
      ? 'http'
      : protocol === 'https:' || protocol === 'wss:'
        ? 'https'
        : undefined;
  if (!scheme) {
    return {
      problem: `the scheme "${protocol.slice(0, -1)}" is not supported (Warren proxies http, https and WebSocket)`,
    };
  }
  const port = parsed.port === '' ? DEFAULT_PORTS[scheme] : Number(parsed.port);
  if (parsed.hostname === '' || port < 1 || port > 65535)
    return { problem: `"${url}" has no valid host and port` };
  return { scheme, host: normalizeHost(parsed.hostname), port, path: rawPathOf(url) };
}

/**
 * `listenerHost` names the proxy itself (for origin-form requests, which go to the gateway).
 */
export function requestTarget(
  url: string,
  hostHeader: string | undefined,
  tunnel: TunnelInfo | undefined,
  listenerHost: string,
): RequestTarget {
  if (tunnel) return targetInTunnel(url, hostHeader, tunnel);
  if (url.startsWith('/')) {
    const named = hostHeader === undefined ? undefined : parseAuthority(hostHeader, 80);
    const host = named?.host ?? listenerHost;
    return { kind: 'gateway', ...destination('http', host, named?.port ?? 80, url) };
  }
  const absolute = parseAbsolute(url);
  if ('problem' in absolute) return { kind: 'bad-request', problem: absolute.problem, url };
  // RFC 9112 §3.2.2: with an absolute-form target the Host header is replaced by the URL's authority
  // (the forwarder does so), so a differing Host cannot reach another virtual host.
  const place = destination(absolute.scheme, absolute.host, absolute.port, absolute.path);
  return { kind: absolute.host === GATEWAY_HOSTNAME ? 'gateway' : 'forward', ...place };
}
