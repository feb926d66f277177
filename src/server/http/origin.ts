import type { IncomingMessage } from 'node:http';

/**
 * True when the request's Origin names this very server (same scheme, host and port as the Host
 * header it was sent to). Browsers send Origin on every cross-origin request, on every POST/DELETE and
 * on every WebSocket handshake, so a mismatch means another site is driving the user's browser.
 */
export function originMatchesHost(request: IncomingMessage, secure: boolean): boolean {
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (!origin || !host || origin === 'null') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const expectedScheme = secure ? 'https:' : 'http:';
  // Behind `tailscale serve` the browser speaks HTTPS to Tailscale, which speaks HTTP to us.
  const forwardedHttps = request.headers['x-forwarded-proto'] === 'https' && parsed.protocol === 'https:';
  return (parsed.protocol === expectedScheme || forwardedHttps) && parsed.host === host.toLowerCase();
}

/** For state-changing requests: refuse a foreign Origin; a missing one is left to the CSRF token. */
export function originAcceptable(request: IncomingMessage, secure: boolean): boolean {
  if (request.headers.origin === undefined) {
    // Fetch metadata, when present, is as telling as Origin.
    const site = request.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }
  return originMatchesHost(request, secure);
}

/** The client's address as seen on the socket (proxies in front are not trusted for rate limiting). */
export function clientAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}
