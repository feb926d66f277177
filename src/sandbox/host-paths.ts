import { stat } from 'node:fs/promises';
import { WarrenError } from '../errors/index.js';

/** Refuses a spec whose host path (workspace, mount source, proxy socket…) is missing or of another kind. */
export async function requireHostPath(
  path: string,
  what: string,
  kind: 'directory' | 'file' | 'socket' | 'any',
): Promise<void> {
  const stats = await stat(path).catch(() => undefined);
  const matches =
    stats &&
    (kind === 'any' ||
      (kind === 'directory' && stats.isDirectory()) ||
      (kind === 'file' && stats.isFile()) ||
      (kind === 'socket' && stats.isSocket()));
  if (!matches)
    throw new WarrenError('invalid-argument', `${what} ${path} does not exist or is not a ${kind}`, {
      hint: 'Create it or correct the path.',
    });
}
