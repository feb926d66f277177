import { constants } from 'node:fs';
import {
  chmod,
  lchown,
  open,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { HostIdentity } from '../host-identity.js';

/** A file, link or folder as read without following links: what a protected path held at one moment. */
export type TreeNode =
  | { kind: 'file'; content: Buffer; mode: number }
  | { kind: 'link'; target: string }
  | { kind: 'folder'; entries: Map<string, TreeNode> };

/** Copies of protected folders are small (hooks, editor settings); a bigger one is refused, not copied slowly. */
export const TREE_LIMIT_BYTES = 32 * 1024 * 1024;

export class TreeTooLargeError extends Error {}

/**
 * Reads a path without following any link; undefined when it does not exist. Sockets and devices are left out, and
 * so are the entries `skip` names.
 */
export async function readTree(
  path: string,
  options: { skip?: (name: string) => boolean } = {},
  budget = { bytes: TREE_LIMIT_BYTES },
): Promise<TreeNode | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return undefined;
  if (stats.isSymbolicLink()) return { kind: 'link', target: await readlink(path) };
  if (stats.isFile()) {
    budget.bytes -= stats.size;
    if (budget.bytes < 0) throw new TreeTooLargeError(`${path} is larger than ${TREE_LIMIT_BYTES} bytes`);
    return { kind: 'file', content: await readFile(path), mode: stats.mode & 0o777 };
  }
  if (!stats.isDirectory()) return undefined;
  const names = (await readdir(path)).filter((name) => !options.skip?.(name)).sort();
  const nodes = await Promise.all(names.map((name) => readTree(join(path, name), options, budget)));
  const entries = new Map<string, TreeNode>();
  names.forEach((name, index) => {
    const node = nodes[index];
    if (node) entries.set(name, node);
  });
  return { kind: 'folder', entries };
}

/** A regular file's content, never through a link at its last component; undefined for anything else. */
export async function readRegularFile(path: string): Promise<Buffer | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  try {
    return (await handle.stat()).isFile() ? await handle.readFile() : undefined;
  } finally {
    await handle.close();
  }
}

/** Writes a tree read by readTree at `path` (which must not exist), owned by `owner` when given. */
export async function writeTree(path: string, node: TreeNode, owner?: HostIdentity): Promise<void> {
  if (node.kind === 'file') await writeFile(path, node.content, { mode: node.mode, flag: 'wx' });
  else if (node.kind === 'link') await symlink(node.target, path);
  else {
    await mkdir(path, { mode: 0o755 });
    for (const [name, child] of node.entries) await writeTree(join(path, name), child, owner);
  }
  if (owner) await lchown(path, owner.uid, owner.gid);
}

export function sameNode(a: TreeNode | undefined, b: TreeNode | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file') return b.kind === 'file' && a.content.equals(b.content) && a.mode === b.mode;
  if (a.kind === 'link') return b.kind === 'link' && a.target === b.target;
  if (b.kind !== 'folder' || a.entries.size !== b.entries.size) return false;
  for (const [name, child] of a.entries) if (!sameNode(child, b.entries.get(name))) return false;
  return true;
}

/** Every file and link below a node, by path relative to it ("" for the node itself when it is not a folder). */
export function leavesOf(node: TreeNode | undefined, prefix = ''): Map<string, TreeNode> {
  const leaves = new Map<string, TreeNode>();
  if (!node) return leaves;
  if (node.kind !== 'folder') {
    leaves.set(prefix, node);
    return leaves;
  }
  for (const [name, child] of node.entries)
    for (const [path, leaf] of leavesOf(child, prefix ? `${prefix}/${name}` : name)) leaves.set(path, leaf);
  return leaves;
}

/**
 * Gives a path and everything below it to `owner`, never following links; with `clearSpecialModes`, also drops
 * setuid, setgid and sticky bits (what a session made must not become a setuid program of the host's user).
 */
export async function chownTree(
  path: string,
  owner: HostIdentity,
  options: { clearSpecialModes?: boolean } = {},
): Promise<void> {
  const stats = await lstat(path);
  await lchown(path, owner.uid, owner.gid);
  if (options.clearSpecialModes && !stats.isSymbolicLink()) await chmod(path, stats.mode & 0o777);
  if (stats.isDirectory())
    for (const name of await readdir(path)) await chownTree(join(path, name), owner, options);
}
