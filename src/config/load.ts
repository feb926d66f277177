import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ZodError } from 'zod';
import { WarrenError } from '../errors/index.js';
import { warrenConfigSchema, type WarrenConfig } from './schema.js';

/** `path: message` per problem, as a user fixes them one by one. */
export function formatZodIssues(error: ZodError): string {
  return error.issues
    .map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`)
    .join('\n');
}

export function parseConfig(text: string, source: string): WarrenConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new WarrenError('invalid-config', `${source} is not valid YAML: ${(error as Error).message}`);
  }
  const result = warrenConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new WarrenError('invalid-config', `${source} has problems:\n${formatZodIssues(result.error)}`, {
      hint: 'fix the fields above; see docs/configuration.md for every key',
    });
  }
  return result.data;
}

/**
 * Loads warren.yaml. A missing file at the default location means "all defaults";
 * a missing file the user named explicitly is an error.
 */
export function loadConfig(path: string, options: { explicit: boolean }): WarrenConfig {
  if (!existsSync(path)) {
    if (options.explicit) {
      throw new WarrenError('invalid-config', `config file ${path} does not exist`, {
        hint: 'check the --config path, or leave it out to use $WARREN_HOME/warren.yaml',
      });
    }
    return parseConfig('{}', path);
  }
  return parseConfig(readFileSync(path, 'utf8'), path);
}
