import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WarrenError } from '../errors/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with errors turned into WarrenError (exit status 2) and everything after
 * `--` returned separately, untouched.
 */
export function parseCommandArgs<T extends Options>(args: string[], options: T, usage: string) {
  const separator = args.indexOf('--');
  const own = separator === -1 ? args : args.slice(0, separator);
  const command = separator === -1 ? [] : args.slice(separator + 1);
  try {
    const parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals, command };
  } catch (error) {
    throw new WarrenError('invalid-argument', (error as Error).message, { hint: `usage: ${usage}` });
  }
}

export function parsePositiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    throw new WarrenError('invalid-argument', `${flag} must be a positive whole number, got "${value}"`);
  }
  return Number(value);
}
