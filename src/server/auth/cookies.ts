/** Cookie header → name/value pairs; malformed pieces are skipped, the first of duplicate names wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const piece of header.split(';')) {
    const separator = piece.indexOf('=');
    if (separator <= 0) continue;
    const name = piece.slice(0, separator).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, piece.slice(separator + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  maxAgeSeconds: number;
  secure: boolean;
}

/** HttpOnly (scripts never see it) and SameSite=Strict (never sent on cross-site requests). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
