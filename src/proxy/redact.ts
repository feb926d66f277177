import type { Header } from './flow.js';

/**
 * Secrets never reach the flow store: these header values are replaced by `[redacted]`.
 * Names are compared in lower case; the pattern catches vendor variants (x-goog-api-key, x-auth-token…).
 */
const SECRET_HEADER_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
]);
const SECRET_HEADER_PATTERN = /token|secret|api[-_]?key|password/i;

export const REDACTED = '[redacted]';

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER_NAMES.has(name.toLowerCase()) || SECRET_HEADER_PATTERN.test(name);
}

/** Node's `rawHeaders` (name, value, name, value…) as header pairs, secrets redacted. */
export function redactRawHeaders(rawHeaders: readonly string[]): Header[] {
  const headers: Header[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    headers.push([name, isSecretHeader(name) ? REDACTED : rawHeaders[index + 1]!]);
  }
  return headers;
}
