import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { configReferences, readConfigEntries } from './git-config.js';

/** git follows include.path at most this deep; so does this. */
const MAX_INCLUDE_DEPTH = 10;

function insideWorkspace(workspace: string, path: string): string | undefined {
  const inside = relative(workspace, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  return inside.split(sep).join('/');
}

/**
 * Workspace-relative paths the repository's config makes git read or run: its core.hooksPath folder and the files
 * it includes (every includeIf counted, whatever its condition), followed through the included files. Paths
 * outside the workspace are not the session's to write, and `~` paths are the host user's: both are left out.
 */
export async function configReferencedPaths(workspace: string, configPath: string): Promise<string[]> {
  const found = new Set<string>();
  const queue: { file: string; depth: number }[] = [{ file: configPath, depth: 0 }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { file, depth } = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const raw = await readFile(file, 'utf8').catch(() => undefined);
    // Most configs name neither: no git process for them.
    if (raw === undefined || !/hookspath|include/i.test(raw)) continue;
    const entries = await readConfigEntries(file);
    if (!entries) continue;
    const { hooksPath, includes } = configReferences(entries);
    // A relative hooksPath is relative to the work tree's root, an include to the including file's folder.
    if (hooksPath && !hooksPath.startsWith('~')) {
      const inside = insideWorkspace(
        workspace,
        isAbsolute(hooksPath) ? hooksPath : join(workspace, hooksPath),
      );
      if (inside) found.add(inside);
    }
    for (const include of includes) {
      if (include.startsWith('~')) continue;
      const target = isAbsolute(include) ? include : join(dirname(file), include);
      const inside = insideWorkspace(workspace, target);
      if (!inside) continue;
      found.add(inside);
      if (depth < MAX_INCLUDE_DEPTH) queue.push({ file: target, depth: depth + 1 });
    }
  }
  return [...found];
}
