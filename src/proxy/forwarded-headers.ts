import { formatAuthority, type Destination } from './target.js';

/**
 * What of a message's headers goes on to the other side: end-to-end headers only, the checked Host first,
 * and never the framing headers (Content-Length, Transfer-Encoding): the proxy writes its own (framing.ts).
 */

const NOT_FORWARDED: ReadonlySet<string> = new Set([
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A header from Node's rawHeaders. Reading `request.headers` instead would build Node's lazy headers
 * object on every request of the hot path.
 */
export function rawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return rawHeaders[index + 1];
  }
  return undefined;
}

/**
 * Copies Node's rawHeaders minus hop-by-hop ones (and those the Connection header names) and the framing
 * headers. `keepUpgrade` keeps Upgrade and Connection for a WebSocket handshake.
 */
export function endToEndHeaders(rawHeaders: readonly string[], keepUpgrade: boolean): string[] {
  let connectionNamed: Set<string> | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === 'connection') {
      connectionNamed ??= new Set();
      for (const token of rawHeaders[index + 1]!.split(',')) connectionNamed.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const lower = rawHeaders[index]!.toLowerCase();
    const isUpgradeHeader = lower === 'upgrade' || lower === 'connection';
    if (keepUpgrade && isUpgradeHeader) {
      kept.push(rawHeaders[index]!, rawHeaders[index + 1]!);
      continue;
    }
    if (NOT_FORWARDED.has(lower) || (connectionNamed?.has(lower) ?? false)) continue;
    kept.push(rawHeaders[index]!, rawHeaders[index + 1]!);
  }
  return kept;
}

/** The Host upstream sees is always the authority that was checked (see target.ts). */
export function withHost(headers: string[], destination: Destination): string[] {
  const kept: string[] = ['Host', formatAuthority(destination.scheme, destination.host, destination.port)];
  for (let index = 0; index < headers.length; index += 2) {
    if (headers[index]!.toLowerCase() !== 'host') kept.push(headers[index]!, headers[index + 1]!);
  }
  return kept;
}
