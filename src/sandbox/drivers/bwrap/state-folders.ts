import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/**
 * Each bwrap session keeps its generated files (etc files, seccomp filter, staging) in a state folder,
 * `warren-sandbox-<session>-XXXXXX` under the OS temp folder. A Warren that crashed leaves its folders
 * behind; the next start removes them. Several Warren instances (WARREN_HOMEs) may share /tmp, and a
 * session's id says nothing about whose it is: a marker file in each folder names its owner, and only
 * folders with this instance's marker are ever removed.
 */

const MARKER = 'warren-owner';
const FOLDER = /^warren-sandbox-(.+)-[A-Za-z0-9]{6}$/;

export function stateFolderPrefix(sessionId: string): string {
  return `warren-sandbox-${sessionId}-`;
}

/** Marks `folder` as belonging to the Warren instance named `owner` (its WARREN_HOME). */
export async function markStateFolder(folder: string, owner: string): Promise<void> {
  await writeFile(join(folder, MARKER), `${owner}\n`, { mode: 0o600 });
}

/** Mount points at or under `folder` in this mount namespace (an escaped bind mount must never be emptied). */
async function mountsUnder(folder: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return table
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) =>
      point.replace(/\\(\d{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((point) => point === folder || point.startsWith(`${folder}${sep}`));
}

/**
 * Removes the state folders under `stateDir` that carry `owner`'s marker and whose session `keep` does
 * not call alive. Folders with another owner, or none (an older Warren's, or another instance's), and
 * folders with anything mounted inside stay. Returns the session ids whose folders went.
 */
export async function reclaimStateFolders(
  stateDir: string,
  owner: string,
  keep: (sessionId: string) => boolean,
): Promise<string[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const sessionId = FOLDER.exec(name)?.[1];
    if (sessionId === undefined || keep(sessionId)) continue;
    const folder = resolve(stateDir, name);
    const marker = await readFile(join(folder, MARKER), 'utf8').catch(() => undefined);
    if (marker?.trim() !== owner) continue;
    if ((await mountsUnder(folder)).length > 0) continue;
    await rm(folder, { recursive: true, force: true });
    removed.push(sessionId);
  }
  return removed;
}
