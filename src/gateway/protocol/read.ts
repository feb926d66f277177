import { invalidRequest } from './errors.js';

/**
 * Small readers for untrusted JSON. Each names the field it checks (`messages[1].content`) so a 400 says
 * exactly what to fix. Hand-written rather than zod: they run on every request, on bodies of hundreds of KB.
 */
export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectRecord(value: unknown, path: string): JsonRecord {
  if (!isRecord(value)) throw invalidRequest(path, `expected an object, got ${describe(value)}`);
  return value;
}

export function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalidRequest(path, `expected an array, got ${describe(value)}`);
  return value;
}

export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalidRequest(path, `expected a string, got ${describe(value)}`);
  return value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : expectString(value, path);
}

export function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidRequest(path, `expected a number, got ${describe(value)}`);
  }
  return value;
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw invalidRequest(path, `expected true or false, got ${describe(value)}`);
  return value;
}

/** `stop` / `stop_sequences`: one string or a list of strings. */
export function optionalStringList(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  return expectArray(value, path).map((item, index) => expectString(item, `${path}[${index}]`));
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** Tool arguments must be an object for Anthropic; anything else (invalid or partial JSON) becomes `{}`. */
export function parseJsonObject(text: string): JsonRecord {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Parses an upstream body that may arrive as text; returns undefined when it is not JSON. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
