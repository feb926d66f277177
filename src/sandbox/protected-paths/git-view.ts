import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmod,
  copyFile,
  cp,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
} from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Dirent } from 'node:fs';
import type { HostIdentity } from '../host-identity.js';
import { GIT_DIR_PROTECTED_NAMES, GIT_ENTRY } from './catalog.js';
import { chownTree, leavesOf, readTree, writeTree, type TreeNode } from './file-tree.js';
import { describeContent, diffLines } from './line-diff.js';
import { HIDDEN_GIT_DIR, readOnlyInPlace, workspaceTarget, type ProtectionMount } from './mounts.js';
import { recordChange, type ProtectedPathsReport } from './report.js';

/**
 * The workspace's git directory as the session sees it at /workspace/.git: a private folder in the state folder.
 * git writes its config, HEAD and other top-level files by renaming a lock file over them, so they must live in a
 * folder the session may write; the host's real top level never is. What git shares with the host (objects,
 * refs, logs, the index, packed-refs) are links into the real directory, shown at HIDDEN_GIT_DIR with its config,
 * hooks and those of the repositories inside it (submodules, worktrees) bound read-only over themselves.
 *
 * - config, config.worktree, commondir, hooks: private copies; never carried back, their changes reported.
 * - other top-level files (HEAD, index, ORIG_HEAD, FETCH_HEAD, COMMIT_EDITMSG, …): private copies, carried back
 *   at the end when the host's are still as they were at the start. They cannot be shared links: git replaces a
 *   link to HEAD with a file and refuses a HEAD that links outside refs/, and `git stash` renames a lock taken on
 *   index (in the real directory, through the link) to index.stash.N in the view, across two mounts (EXDEV).
 * - packed-refs and every folder but hooks: links, written through by git (it follows links when it replaces
 *   these). packed-refs is linked even when absent, so packing refs never moves them into the view.
 */
export interface GitView {
  mounts: ProtectionMount[];
  /**
   * Workspace paths that protected entries link to (`.git/hooks -> ../.githooks`): git runs what is there, so they
   * are protected like the entries themselves.
   */
  linkedTargets: string[];
  /** Carries the view's changed top-level files to the host and reports changes to protected entries. */
  settle(report: ProtectedPathsReport): Promise<void>;
}

const GIT_DIR = GIT_ENTRY.path;
const LINKED_FILES = new Set(['packed-refs']);
const WHY = GIT_ENTRY.why;

function isOurLink(name: string, target: string): boolean {
  return target === `${HIDDEN_GIT_DIR}/${name}`;
}

/** Nested git directories inside the real one (submodules under modules/, worktrees/*), relative to it. */
async function nestedGitDirs(real: string, relative = ''): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(join(real, relative), { withFileTypes: true }).catch(() => [] as Dirent[]);
  const names = new Set(entries.map((entry) => entry.name));
  if (relative && names.has('HEAD')) found.push(relative);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === 'objects') continue;
    if (!relative && entry.name !== 'modules' && entry.name !== 'worktrees') continue;
    found.push(...(await nestedGitDirs(real, relative ? `${relative}/${entry.name}` : entry.name)));
  }
  return found;
}

/** Read-only binds over the protected entries of each nested git directory that exist as real files or folders. */
async function nestedCovers(real: string): Promise<ProtectionMount[]> {
  const mounts: ProtectionMount[] = [];
  for (const nested of await nestedGitDirs(real))
    for (const name of GIT_DIR_PROTECTED_NAMES) {
      const stats = await lstat(join(real, nested, name)).catch(() => undefined);
      if (stats?.isFile() || stats?.isDirectory())
        mounts.push(readOnlyInPlace(`${GIT_DIR}/${nested}/${name}`, `${HIDDEN_GIT_DIR}/${nested}/${name}`));
    }
  return mounts;
}

/** A top-level entry as carrying compares it: a file by digest (the index can be large), a folder as such. */
type EntryState = { kind: 'file'; digest: string } | { kind: 'link'; target: string } | { kind: 'folder' };

async function digestOf(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function entryState(path: string): Promise<EntryState | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return undefined;
  if (stats.isFile()) return { kind: 'file', digest: await digestOf(path) };
  if (stats.isSymbolicLink()) return { kind: 'link', target: await readlink(path) };
  return stats.isDirectory() ? { kind: 'folder' } : undefined;
}

function sameEntry(a: EntryState | undefined, b: EntryState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file') return b.kind === 'file' && a.digest === b.digest;
  if (a.kind === 'link') return b.kind === 'link' && a.target === b.target;
  return b.kind === 'folder';
}

function sameContent(a: TreeNode | undefined, b: TreeNode | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file') return b.kind === 'file' && a.content.equals(b.content);
  if (a.kind === 'link') return b.kind === 'link' && a.target === b.target;
  return b.kind === 'folder';
}

/** Reports what the session did to a protected entry of its private view, file by file. */
function reportProtected(
  report: ProtectedPathsReport,
  name: string,
  before: TreeNode | undefined,
  after: TreeNode | undefined,
): void {
  const old = leavesOf(before);
  const next = leavesOf(after);
  for (const path of new Set([...old.keys(), ...next.keys()])) {
    // Sample hooks never run; git init writes a dozen of them.
    if (name === 'hooks' && path.endsWith('.sample')) continue;
    const was = old.get(path);
    const now = next.get(path);
    if (sameContent(was, now) && (was?.kind !== 'file' || now?.kind !== 'file' || was.mode === now.mode))
      continue;
    const full = path ? `${GIT_DIR}/${name}/${path}` : `${GIT_DIR}/${name}`;
    const text = (node: TreeNode | undefined) =>
      node?.kind === 'file' ? node.content : Buffer.from(node?.kind === 'link' ? `-> ${node.target}\n` : '');
    recordChange(report, {
      path: full,
      change: was === undefined ? 'created' : now === undefined ? 'deleted' : 'changed',
      outcome: 'kept-private',
      why: WHY,
      ...(now === undefined
        ? {}
        : { diff: was === undefined ? describeContent(text(now)) : diffLines(text(was), text(now)) }),
    });
  }
}

export async function prepareGitView(options: {
  workspace: string;
  folder: string;
  owner: HostIdentity | undefined;
  /**
   * Paths inside the git directory (relative to it) that its config includes: protected like config. Each was
   * checked to have no link on its way.
   */
  included: string[];
}): Promise<GitView> {
  const real = join(options.workspace, GIT_DIR);
  const protectedNames = [
    ...GIT_DIR_PROTECTED_NAMES,
    ...options.included.filter(
      (path) => !path.includes('/') && !(GIT_DIR_PROTECTED_NAMES as readonly string[]).includes(path),
    ),
  ];
  const PROTECTED = new Set(protectedNames);
  const view = join(options.folder, 'git-view');
  await mkdir(view, { mode: 0o755 });
  const entries = await readdir(real, { withFileTypes: true });
  /** What protected entries held at the start, for the report. */
  const start = new Map<string, TreeNode>();
  /** What the other private entries held at the start, to carry back only over an unchanged host entry. */
  const carryStart = new Map<string, EntryState>();
  const linked = new Set<string>();
  const covers: ProtectionMount[] = [];
  const linkedTargets: string[] = [];
  for (const entry of entries) {
    const name = entry.name;
    const path = join(real, name);
    if (PROTECTED.has(name)) {
      // Sample hooks never run: the session's copy of hooks/ holds the real ones only.
      const node = await readTree(path, { skip: (file) => name === 'hooks' && file.endsWith('.sample') });
      if (!node) continue;
      start.set(name, node);
      await writeTree(join(view, name), node);
      if (node.kind !== 'link')
        covers.push(readOnlyInPlace(`${GIT_DIR}/${name}`, `${HIDDEN_GIT_DIR}/${name}`));
      else {
        const target = relative(options.workspace, resolve(real, node.target));
        if (target && !target.startsWith('..') && !isAbsolute(target)) linkedTargets.push(target);
      }
    } else if (entry.isFile() && !LINKED_FILES.has(name)) {
      await copyFile(path, join(view, name), constants.COPYFILE_EXCL);
      carryStart.set(name, { kind: 'file', digest: await digestOf(join(view, name)) });
    } else {
      await symlink(`${HIDDEN_GIT_DIR}/${name}`, join(view, name));
      linked.add(name);
    }
  }
  for (const name of LINKED_FILES)
    if (!linked.has(name) && !carryStart.has(name)) {
      await symlink(`${HIDDEN_GIT_DIR}/${name}`, join(view, name));
      linked.add(name);
    }
  // Hooks the session writes land in the view, not in a hooks folder it would create in the real directory.
  if (!start.has('hooks')) await mkdir(join(view, 'hooks'), { mode: 0o755 });
  if (options.owner) await chownTree(view, options.owner);

  const deeperIncludes = options.included.filter((path) => path.includes('/'));
  for (const path of deeperIncludes) {
    const stats = await lstat(join(real, path)).catch(() => undefined);
    if (stats?.isFile()) covers.push(readOnlyInPlace(`${GIT_DIR}/${path}`, `${HIDDEN_GIT_DIR}/${path}`));
  }
  const mounts: ProtectionMount[] = [
    { source: view, inWorkspace: false, target: workspaceTarget(GIT_DIR), readonly: false },
    { source: GIT_DIR, inWorkspace: true, target: HIDDEN_GIT_DIR, readonly: false },
    ...covers,
    ...(await nestedCovers(real)),
  ];

  /** Applies the view's version of a private top-level entry to the host when the host's is still the start's. */
  async function carry(report: ProtectedPathsReport, name: string): Promise<void> {
    const before = carryStart.get(name);
    const after = await entryState(join(view, name));
    if (after?.kind === 'link') {
      if (!linked.has(name) || !isOurLink(name, after.target))
        report.notes.push(`${GIT_DIR}/${name} became a link in the session; not carried to the host`);
      return;
    }
    if (linked.has(name)) {
      report.notes.push(`${GIT_DIR}/${name} was removed or replaced in the session; the host keeps its own`);
      return;
    }
    if (sameEntry(before, after)) return;
    const hostPath = join(real, name);
    const host = await entryState(hostPath);
    if (!sameEntry(before, host)) {
      report.notes.push(
        `${GIT_DIR}/${name} changed on the host during the session; the host's is kept, not the session's`,
      );
      return;
    }
    const { uid, gid } = await lstat(real);
    if (after === undefined) {
      // git never deletes HEAD; a session that did (rm -rf .git) wrecked its own view, not the host's repository.
      if (name === 'HEAD') {
        report.notes.push(`${GIT_DIR}/HEAD was deleted in the session; the host keeps its own`);
        return;
      }
      await rm(hostPath, { force: true });
    } else if (after.kind === 'file') {
      const temporary = `${hostPath}.warren-carry`;
      await rm(temporary, { force: true, recursive: true });
      await copyFile(join(view, name), temporary, constants.COPYFILE_EXCL);
      // git's top-level files are never executable; no mode bit of the session's reaches the host.
      await chmod(temporary, 0o644);
      await lchown(temporary, uid, gid);
      await rename(temporary, hostPath);
    } else if (host === undefined) {
      await cp(join(view, name), hostPath, { recursive: true, verbatimSymlinks: true, errorOnExist: true });
      await chownTree(hostPath, { uid, gid }, { clearSpecialModes: true });
    } else {
      report.notes.push(`${GIT_DIR}/${name} became a folder in the session; not carried to the host`);
      return;
    }
    report.carried.push(`${GIT_DIR}/${name}`);
  }

  async function settle(report: ProtectedPathsReport): Promise<void> {
    for (const name of protectedNames)
      reportProtected(
        report,
        name,
        start.get(name),
        await readTree(join(view, name), { skip: (file) => file.endsWith('.sample') }).catch(() => undefined),
      );
    const names = new Set([...(await readdir(view)), ...carryStart.keys()]);
    for (const name of [...names].sort()) {
      if (PROTECTED.has(name)) continue;
      try {
        await carry(report, name);
      } catch (error) {
        report.notes.push(`${GIT_DIR}/${name} could not be carried to the host: ${(error as Error).message}`);
      }
    }
  }

  return { mounts, linkedTargets, settle };
}
