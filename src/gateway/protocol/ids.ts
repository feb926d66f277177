import { randomBytes } from 'node:crypto';

/** A random id with a protocol's usual prefix (`msg_`, `toolu_`, `chatcmpl-`, `call_`, `resp_`, `fc_`). */
export function generateId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
