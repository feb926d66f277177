import type { BigIntStats, Dirent } from 'node:fs';
import { lchown, lstat, readdir, realpath, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { GIT_DIR_PROTECTED_NAMES, GIT_ENTRY } from './catalog.js';
import { readConfigEntries, isSafeConfigKey, sanitizedConfigText } from './git-config.js';
import { readRegularFile } from './file-tree.js';
import { describeContent } from './line-diff.js';
import { recordChange, type ProtectedPathChange, type ProtectedPathsReport } from './report.js';

/** Folders read at once while walking the workspace. */
const WALK_CONCURRENCY = 16;

export interface ScanContext {
  workspace: string;
  sessionId: string;
  /**
   * ctime (ns) of a file written once the sandbox was ready to start, after Warren's own changes to the workspace
   * (lending it to the sandbox identity changes every ctime): an entry changed at or after it was changed by the
   * session. The kernel sets ctime on every change and nothing can set it back.
   */
  baselineNs: bigint;
  report: ProtectedPathsReport;
  /** The workspace's own git directory had its private view: the session could not change its config. */
  ownGitDirProtected?: boolean;
}

function changedInSession(stats: BigIntStats, context: ScanContext): boolean {
  return stats.ctimeNs >= context.baselineNs;
}

function kindOfChange(stats: BigIntStats, context: ScanContext): 'created' | 'changed' {
  return stats.birthtimeNs > 0n && stats.birthtimeNs >= context.baselineNs ? 'created' : 'changed';
}

/** A free name beside `path` for what the session left there; nothing on the host reads such a name. */
async function quarantineName(path: string, sessionId: string): Promise<string> {
  const base = `${path}.warren-quarantine-${sessionId}`;
  for (let attempt = 0; ; attempt += 1) {
    const candidate = attempt === 0 ? base : `${base}-${attempt}`;
    if (!(await lstat(candidate).catch(() => undefined))) return candidate;
  }
}

function relative(context: ScanContext, path: string): string {
  return path.slice(context.workspace.length + 1);
}

/** Renames what the session left at `path` out of the way, and records it. */
export async function quarantine(
  context: ScanContext,
  path: string,
  entry: Pick<ProtectedPathChange, 'change' | 'why' | 'diff'>,
): Promise<void> {
  const change: ProtectedPathChange = { path: relative(context, path), ...entry, outcome: 'quarantined' };
  try {
    const target = await quarantineName(path, context.sessionId);
    await rename(path, target);
    change.movedTo = relative(context, target);
  } catch (error) {
    change.outcome = 'failed';
    change.error = (error as Error).message;
  }
  recordChange(context.report, change);
}

/** A config the session wrote: moved aside, and replaced by its remote, branch and format settings only. */
async function sanitizeConfig(context: ScanContext, path: string, stats: BigIntStats): Promise<void> {
  const change: ProtectedPathChange = {
    path: relative(context, path),
    change: kindOfChange(stats, context),
    why: GIT_ENTRY.why,
    outcome: 'quarantined',
  };
  try {
    const content = (await readRegularFile(path)) ?? Buffer.alloc(0);
    const target = await quarantineName(path, context.sessionId);
    await rename(path, target);
    change.movedTo = relative(context, target);
    const entries = await readConfigEntries(target);
    if (entries) {
      const dropped = entries.filter((entry) => !isSafeConfigKey(entry.key));
      change.diff = dropped.map((entry) => `- ${entry.key} = ${entry.value}`).join('\n') || undefined;
      const folder = await lstat(join(path, '..'));
      await writeFile(path, sanitizedConfigText(entries), { mode: 0o644, flag: 'wx' });
      await lchown(path, folder.uid, folder.gid);
      change.outcome = 'sanitized';
    } else change.diff = describeContent(content);
  } catch (error) {
    change.outcome = 'failed';
    change.error = (error as Error).message;
  }
  recordChange(context.report, change);
}

/** Neutralises what the session changed in one git directory: config, config.worktree, commondir and hooks. */
async function checkGitDir(context: ScanContext, folder: string): Promise<void> {
  for (const name of GIT_DIR_PROTECTED_NAMES) {
    const path = join(folder, name);
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats) continue;
    if (name === 'hooks' && stats.isDirectory()) {
      await checkHooks(context, path);
      continue;
    }
    // Only what git would read: a folder named config (a project's, in a folder that looks like a repository)
    // is nothing git runs, and is never moved.
    if ((name === 'hooks' && stats.isFile()) || (name !== 'hooks' && stats.isDirectory())) continue;
    if (!changedInSession(stats, context)) continue;
    if (name === 'commondir' && (await namesWorkspaceGitDir(context, folder, path))) continue;
    if (name === 'config' && stats.isFile()) await sanitizeConfig(context, path, stats);
    else {
      const content = stats.isFile() ? await readRegularFile(path) : undefined;
      await quarantine(context, path, {
        change: kindOfChange(stats, context),
        why: GIT_ENTRY.why,
        ...(content ? { diff: describeContent(content) } : {}),
      });
    }
  }
}

/**
 * `git worktree add` writes worktrees/<name>/commondir naming the workspace's own git directory, whose config the
 * session could not change: harmless. Any other commondir would make git read another config.
 */
async function namesWorkspaceGitDir(context: ScanContext, folder: string, path: string): Promise<boolean> {
  const content = await readRegularFile(path);
  if (!content) return false;
  const named = content.toString('utf8').replace(/\n$/, '');
  if (named.includes('\n') || named.includes('\0')) return false;
  const target = await realpath(resolve(folder, named)).catch(() => undefined);
  const own = await realpath(join(context.workspace, GIT_ENTRY.path)).catch(() => undefined);
  return context.ownGitDirProtected === true && target !== undefined && target === own;
}

/** git runs hooks/<name> for each hook; sample hooks (name.sample) never run. */
async function checkHooks(context: ScanContext, folder: string): Promise<void> {
  const entries = await readdir(folder).catch(() => [] as string[]);
  for (const name of entries.sort()) {
    if (name.endsWith('.sample') || name.includes('.warren-quarantine-')) continue;
    const path = join(folder, name);
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats || !changedInSession(stats, context)) continue;
    const content = stats.isFile() ? await readRegularFile(path) : undefined;
    await quarantine(context, path, {
      change: kindOfChange(stats, context),
      why: 'git runs it on the matching command (commit, checkout, merge, push, …)',
      ...(content ? { diff: describeContent(content) } : {}),
    });
  }
}

/**
 * What git treats as a repository: a folder named .git, or one holding HEAD with objects, refs or commondir (a
 * bare repository, a submodule's or worktree's git directory). git discovers such a folder from any directory a
 * user (or a shell prompt, or an editor) runs it in, and `git status` recurses into submodules.
 */
function isGitDir(folder: string, entries: readonly Dirent[]): boolean {
  if (basename(folder) === GIT_ENTRY.path) return true;
  const file = (name: string) => entries.some((entry) => entry.name === name && !entry.isDirectory());
  const directory = (name: string) => entries.some((entry) => entry.name === name && entry.isDirectory());
  // A worktree's common directory (what a commondir names) may hold no HEAD.
  if (file('config') && directory('objects') && directory('refs')) return true;
  return file('HEAD') && (directory('objects') || directory('refs') || file('commondir'));
}

/**
 * Walks the whole workspace, never following links, and neutralises every git directory's protected entries that
 * changed during the session (except objects/, which holds only git objects). Nested repositories cannot be bound
 * read-only at the start without walking the workspace first, so they are caught here instead.
 */
export async function neutraliseGitDirs(context: ScanContext): Promise<void> {
  const pending: string[] = [context.workspace];
  const gitDirs: string[] = [];
  const visit = async (folder: string) => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => [] as Dirent[]);
    const gitDir = isGitDir(folder, entries);
    if (gitDir) gitDirs.push(folder);
    for (const entry of entries)
      if (entry.isDirectory() && !(gitDir && entry.name === 'objects'))
        pending.push(join(folder, entry.name));
  };
  while (pending.length > 0) await Promise.all(pending.splice(0, WALK_CONCURRENCY).map(visit));
  for (const folder of gitDirs.sort()) await checkGitDir(context, folder);
}
