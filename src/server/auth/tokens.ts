import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL- and cookie-safe. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a cookie token: its sha256, so a copy of the database opens no session. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(given: string, expected: string): boolean {
  const left = createHash('sha256').update(given).digest();
  const right = createHash('sha256').update(expected).digest();
  return timingSafeEqual(left, right) && given.length === expected.length;
}
