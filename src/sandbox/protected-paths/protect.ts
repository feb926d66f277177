import { lstat, mkdir, readFile, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { HostIdentity } from '../host-identity.js';
import {
  GIT_ENTRY,
  selectProtectedEntries,
  type ProtectedEntry,
  type ProtectedPathsSetting,
} from './catalog.js';
import { configReferencedPaths } from './config-references.js';
import { prepareGitView, type GitView } from './git-view.js';
import { readRegularFile } from './file-tree.js';
import { describeContent } from './line-diff.js';
import { readOnlyInPlace, type ProtectionMount } from './mounts.js';
import { emptyReport, type ProtectedPathsReport } from './report.js';
import { neutraliseGitDirs, quarantine, type ScanContext } from './scan.js';

/** One session's protection: the binds drivers add, and what to do once the session has ended. */
export interface WorkspaceProtection {
  mounts: ProtectionMount[];
  /**
   * Call when the sandbox is about to start, after every change Warren itself makes to the workspace; with
   * `afterOwnChanges` (Warren just lent the workspace, which touches every file) it waits for the workspace's clock
   * to move on (one kernel tick, a few milliseconds), so that those changes never count as the session's.
   */
  markStarted(options?: { afterOwnChanges?: boolean }): Promise<void>;
  /**
   * After the sandbox has exited: reports what the session changed, carries its git state (HEAD…) to the host and
   * neutralises what reached the host. Never throws (a failure is in the report); the same report each call.
   */
  settle(): Promise<ProtectedPathsReport>;
}

/** How a protected path looked at the start. */
type StartState =
  | { kind: 'absent' }
  | { kind: 'bound' }
  | { kind: 'link'; target: string }
  | { kind: 'file'; content: Buffer };

/** The first folder on the way to `path` (a workspace-relative prefix) that is now a link or not a folder. */
async function firstLinkOnWay(workspace: string, path: string): Promise<string | undefined> {
  const parts = path.split('/');
  for (let index = 1; index < parts.length; index += 1) {
    const prefix = parts.slice(0, index).join('/');
    const stats = await lstat(join(workspace, prefix)).catch(() => undefined);
    if (!stats) return undefined;
    if (!stats.isDirectory()) return prefix;
  }
  return undefined;
}

/** The path's state, or `unreachable` when a link or a non-folder lies on its way from the workspace root. */
async function stateOf(workspace: string, path: string): Promise<StartState | 'unreachable'> {
  if ((await firstLinkOnWay(workspace, path)) !== undefined) return 'unreachable';
  const stats = await lstat(join(workspace, path)).catch(() => undefined);
  if (!stats) return { kind: 'absent' };
  if (stats.isSymbolicLink()) return { kind: 'link', target: await readlink(join(workspace, path)) };
  return stats.isFile() || stats.isDirectory() ? { kind: 'bound' } : 'unreachable';
}

async function sameAsStart(workspace: string, path: string, start: StartState): Promise<boolean> {
  const now = await stateOf(workspace, path);
  if (now === 'unreachable') return false;
  if (start.kind === 'file') {
    const content = await readRegularFile(join(workspace, path));
    return content !== undefined && content.equals(start.content);
  }
  if (start.kind === 'link') return now.kind === 'link' && now.target === start.target;
  if (start.kind === 'absent') return now.kind === 'absent';
  return true;
}

/** Longest wait for the clock of the workspace's filesystem to tick (FAT counts in 2 s steps). */
const CLOCK_WAIT_MS = 2500;

/**
 * The change time the workspace's own filesystem gives a file now: its clock and granularity (a network server's,
 * a coarse filesystem's), read from a short-lived file in .git (or at the root without one), removed at once.
 */
async function workspaceClock(
  workspace: string,
  sessionId: string,
  afterOwnChanges: boolean,
): Promise<bigint> {
  const gitDir = await lstat(join(workspace, GIT_ENTRY.path)).catch(() => undefined);
  const marker = join(workspace, gitDir?.isDirectory() ? GIT_ENTRY.path : '', `.warren-start-${sessionId}`);
  await writeFile(marker, '', { mode: 0o600, flag: 'wx' });
  try {
    const first = (await lstat(marker, { bigint: true })).ctimeNs;
    let now = first;
    const deadline = Date.now() + CLOCK_WAIT_MS;
    while (afterOwnChanges && now <= first && Date.now() < deadline) {
      await delay(1);
      await utimes(marker, new Date(), new Date());
      now = (await lstat(marker, { bigint: true })).ctimeNs;
    }
    return now;
  } finally {
    await rm(marker, { force: true });
  }
}

export interface ProtectionOptions {
  workspace: string;
  /** The session's state folder (removed when the session ends); a `protected` folder is made in it. */
  stateFolder: string;
  sessionId: string;
  setting: ProtectedPathsSetting | undefined;
  /** The host identity the agent writes as, when it is not Warren's own: it gets the private git view. */
  owner?: HostIdentity;
}

/**
 * Sets up protected paths for one session (docs/sandbox.md, "Protected paths"): the workspace's git directory
 * through a private view (git-view.ts), the other protected paths that exist bound read-only over themselves.
 * Undefined when the setting protects nothing.
 */
export async function prepareWorkspaceProtection(
  options: ProtectionOptions,
): Promise<WorkspaceProtection | undefined> {
  const selection = selectProtectedEntries(options.setting);
  if (!selection.git && selection.entries.length === 0) return undefined;
  const { workspace } = options;
  const folder = join(options.stateFolder, 'protected');
  await mkdir(folder, { mode: 0o711 });
  const notes: string[] = [];
  const mounts: ProtectionMount[] = [];
  const entries: ProtectedEntry[] = [...selection.entries];
  const starts = new Map<string, StartState>();
  let view: GitView | undefined;

  if (selection.git) {
    const gitDir = await stateOf(workspace, GIT_ENTRY.path);
    const configPath = join(workspace, GIT_ENTRY.path, 'config');
    const referenced =
      gitDir !== 'unreachable' && gitDir.kind === 'bound'
        ? await configReferencedPaths(workspace, configPath)
        : [];
    const why = 'the repository config makes git read or run it (core.hooksPath, include.path)';
    for (const path of referenced)
      if (!path.startsWith(`${GIT_ENTRY.path}/`) && !entries.some((entry) => entry.path === path))
        entries.push({ path, why });
    const stats = await lstat(join(workspace, GIT_ENTRY.path)).catch(() => undefined);
    if (stats?.isDirectory()) {
      const included: string[] = [];
      for (const path of referenced.filter((path) => path.startsWith(`${GIT_ENTRY.path}/`))) {
        const state = await stateOf(workspace, path);
        if (state !== 'unreachable') included.push(path.slice(GIT_ENTRY.path.length + 1));
        else notes.push(`${path} is not protected: a link lies on its way`);
      }
      view = await prepareGitView({ workspace, folder, owner: options.owner, included });
      mounts.push(...view.mounts);
      for (const path of view.linkedTargets)
        if (!entries.some((entry) => entry.path === path))
          entries.push({ path, why: 'the git directory links its hooks or config there' });
    } else if (stats?.isFile()) {
      // A worktree's or submodule's .git file naming its git directory elsewhere: read-only, so it keeps naming it.
      starts.set(GIT_ENTRY.path, {
        kind: 'file',
        content: await readFile(join(workspace, GIT_ENTRY.path)),
      });
      mounts.push(readOnlyInPlace(GIT_ENTRY.path));
    } else if (stats?.isSymbolicLink())
      starts.set(GIT_ENTRY.path, { kind: 'link', target: await readlink(join(workspace, GIT_ENTRY.path)) });
  }

  const whyOf = new Map<string, string>([[GIT_ENTRY.path, GIT_ENTRY.why]]);
  for (const entry of entries) {
    whyOf.set(entry.path, entry.why);
    const state = await stateOf(workspace, entry.path);
    if (state === 'unreachable') {
      notes.push(`${entry.path} is not protected: a link or a special file lies on its way`);
      continue;
    }
    starts.set(entry.path, state);
    if (state.kind === 'bound') mounts.push(readOnlyInPlace(entry.path));
    // `.vscode -> tools/vscode`: the host reads what the link names, so that is protected too (once).
    if (state.kind === 'link') {
      const target = relative(workspace, resolve(dirname(join(workspace, entry.path)), state.target));
      const known = entries.some((other) => other.path === target);
      if (target && !target.startsWith('..') && !isAbsolute(target) && !known)
        entries.push({ path: target, why: `${entry.path} links to it: ${entry.why}` });
    }
  }

  let baselineNs: bigint | undefined;
  let settled: Promise<ProtectedPathsReport> | undefined;

  async function settleOnce(): Promise<ProtectedPathsReport> {
    const report = emptyReport();
    report.notes.push(...notes);
    // A sandbox that never started changed nothing; there is nothing to carry either.
    if (baselineNs === undefined) return report;
    const context: ScanContext = {
      workspace,
      sessionId: options.sessionId,
      baselineNs,
      report,
      ownGitDirProtected: view !== undefined,
    };
    const steps: [string, () => Promise<void>][] = [
      ['the git view', async () => view?.settle(report)],
      [
        'the protected paths',
        async () => {
          for (const [path, start] of starts) {
            if (start.kind === 'bound') continue;
            const why = whyOf.get(path) ?? GIT_ENTRY.why;
            // A folder on the way became a link: renaming through it could rename a host file outside the
            // workspace, and the host would follow it to whatever the session put there. The link itself goes.
            const link = await firstLinkOnWay(workspace, path);
            if (link !== undefined) {
              await quarantine(context, join(workspace, link), {
                change: 'changed',
                why: `${path} is behind it: ${why}`,
              });
              continue;
            }
            if (await sameAsStart(workspace, path, start)) continue;
            const now = await readRegularFile(join(workspace, path));
            await quarantine(context, join(workspace, path), {
              change: start.kind === 'absent' ? 'created' : 'changed',
              why,
              ...(now ? { diff: describeContent(now) } : {}),
            });
          }
        },
      ],
      [
        'the repositories in the workspace',
        async () => (selection.git ? neutraliseGitDirs(context) : undefined),
      ],
    ];
    for (const [what, step] of steps)
      await step().catch((error: unknown) =>
        report.notes.push(`checking ${what} failed: ${(error as Error).message}`),
      );
    return report;
  }

  return {
    mounts,
    async markStarted(started = {}) {
      baselineNs = await workspaceClock(workspace, options.sessionId, started.afterOwnChanges ?? false);
    },
    settle: () => (settled ??= settleOnce()),
  };
}
