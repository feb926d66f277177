import { randomBytes } from 'node:crypto';
import { argon2id, argon2Verify } from 'hash-wasm';
import { WarrenError } from '../../errors/index.js';

/** OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): about 50 ms here, and memory-hard. */
const parameters = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

export const MINIMUM_PASSWORD_LENGTH = 10;
const MAXIMUM_PASSWORD_LENGTH = 1024;

/** Refuses passwords that are too short (or absurdly long, which would only cost hashing time). */
export function checkPasswordStrength(password: string): void {
  if (password.length < MINIMUM_PASSWORD_LENGTH) {
    throw new WarrenError(
      'invalid-argument',
      `the password must have at least ${MINIMUM_PASSWORD_LENGTH} characters`,
      { hint: 'a few random words make a long password that is easy to type on a phone' },
    );
  }
  if (password.length > MAXIMUM_PASSWORD_LENGTH) {
    throw new WarrenError(
      'invalid-argument',
      `the password must have at most ${MAXIMUM_PASSWORD_LENGTH} characters`,
    );
  }
}

/** Argon2id in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), parameters included. */
export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...parameters, outputType: 'encoded' });
}

/** False for a wrong password and for a malformed stored hash alike (fail closed). */
export async function verifyPassword(password: string, encodedHash: string): Promise<boolean> {
  if (password.length > MAXIMUM_PASSWORD_LENGTH) return false;
  try {
    return await argon2Verify({ password, hash: encodedHash });
  } catch {
    return false;
  }
}
