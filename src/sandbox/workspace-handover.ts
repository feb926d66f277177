import { execFile } from 'node:child_process';
import { lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WarrenError } from '../errors/index.js';
import type { HostIdentity } from './host-identity.js';

const run = promisify(execFile);

/**
 * A folder lent to the sandbox identity for a session, as written to the ledger before anything changes, so
 * that a crashed Warren can hand it back at its next start.
 */
export interface HandoverRecord {
  sessionId: string;
  folder: string;
  /** Owner of the folder itself before the session: every entry the agent leaves is given to it. */
  owner: HostIdentity;
  identity: HostIdentity;
  /** Entries that had another owner than the folder's: each gets its own owner back. */
  exceptions: { path: string; uid: number; gid: number }[];
}

const FIND = 'find';
const CHOWN = 'chown';

function handoverFailed(folder: string, error: unknown): WarrenError {
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new WarrenError('sandbox-failed', `Could not lend ${folder} to the sandbox identity: ${detail}`, {
    hint: 'Warren runs as root, so the sandbox runs as an unprivileged uid that must own the workspace for the session. Use a workspace on a filesystem that allows chown (not NFS with root_squash, not vfat), or run Warren as a normal user.',
  });
}

/** Entries below `folder` (and itself) whose owner or group differ from the folder's own. */
async function listExceptions(folder: string, owner: HostIdentity): Promise<HandoverRecord['exceptions']> {
  const { stdout } = await run(
    FIND,
    [
      folder,
      '(',
      '!',
      '-uid',
      String(owner.uid),
      '-o',
      '!',
      '-gid',
      String(owner.gid),
      ')',
      '-printf',
      '%U %G %p\\0',
    ],
    { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
  );
  return stdout
    .split('\0')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [uid, gid] = line.split(' ', 2);
      const path = line.slice(`${uid} ${gid} `.length);
      return { path, uid: Number(uid), gid: Number(gid) };
    });
}

function ledgerFile(ledgerDir: string, sessionId: string): string {
  return join(ledgerDir, `${sessionId}.json`);
}

async function writeRecord(ledgerDir: string, record: HandoverRecord): Promise<void> {
  await mkdir(ledgerDir, { recursive: true, mode: 0o700 });
  const file = ledgerFile(ledgerDir, record.sessionId);
  await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * Folders never lent: the root, a top-level folder (/root, /home, /usr, /tmp…), or one holding Warren's own
 * state (its ledger lies in WARREN_HOME): lending them would give the agent the host's files, or Warren's keys.
 */
function refuseUnsafeFolder(folder: string, ledgerDir: string): void {
  const path = resolve(folder);
  const inside = relative(path, resolve(ledgerDir));
  const holdsWarren = inside === '' || (!inside.startsWith('..') && !inside.startsWith('/'));
  if (path === '/' || dirname(path) === '/' || holdsWarren)
    throw new WarrenError(
      'invalid-argument',
      `Refusing ${path} as the workspace of a sandbox run by root: ${path === '/' || dirname(path) === '/' ? 'it is a top-level folder of the host' : "it holds Warren's own home"}`,
      { hint: 'Run the session in a project folder (cd into it, or pass --dir).' },
    );
}

/**
 * Gives `folder` and everything in it to `identity` for a session (chown -R, not following links), after writing
 * what it takes to undo that to the ledger. The kernel clears setuid and setgid bits on chown.
 */
export async function handOverFolder(
  folder: string,
  identity: HostIdentity,
  ledger: { dir: string; sessionId: string },
): Promise<HandoverRecord> {
  refuseUnsafeFolder(folder, ledger.dir);
  try {
    const stats = await lstat(folder);
    const owner = { uid: stats.uid, gid: stats.gid };
    const record: HandoverRecord = {
      sessionId: ledger.sessionId,
      folder,
      owner,
      identity,
      exceptions: await listExceptions(folder, owner),
    };
    await writeRecord(ledger.dir, record);
    await run(CHOWN, ['-R', '-P', '-h', `${identity.uid}:${identity.gid}`, '--', folder]);
    return record;
  } catch (error) {
    throw handoverFailed(folder, error);
  }
}

/**
 * Hands a lent folder back: every entry the identity owns (those it had, and those the agent made) goes to the
 * folder's owner, the exceptions to their own, and the ledger entry is removed. Links are never followed.
 */
export async function handBackFolder(record: HandoverRecord, ledgerDir: string): Promise<void> {
  const present = await lstat(record.folder).catch(() => undefined);
  if (present) {
    const { identity, owner } = record;
    await run(CHOWN, [
      '-R',
      '-P',
      '-h',
      `--from=${identity.uid}`,
      `${owner.uid}:${owner.gid}`,
      '--',
      record.folder,
    ]);
    for (const entry of record.exceptions) {
      const stats = await lstat(entry.path).catch(() => undefined);
      if (stats && stats.uid === owner.uid) await lchown(entry.path, entry.uid, entry.gid);
    }
  }
  await rm(ledgerFile(ledgerDir, record.sessionId), { force: true });
}

/** Hands back what sessions that are no longer alive (a crashed Warren's) still hold; returns their ids. */
export async function reclaimHandovers(
  ledgerDir: string,
  keep: (sessionId: string) => boolean,
): Promise<string[]> {
  const names = await readdir(ledgerDir).catch(() => [] as string[]);
  const reclaimed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const record = JSON.parse(await readFile(join(ledgerDir, name), 'utf8')) as HandoverRecord;
    if (keep(record.sessionId)) continue;
    await handBackFolder(record, ledgerDir);
    reclaimed.push(record.sessionId);
  }
  return reclaimed;
}
