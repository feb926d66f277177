import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { markStateFolder, reclaimStateFolders } from './state-folders.js';

describe('bwrap state folders after a crash', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function stateDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'warren-state-dir-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it("removes this instance's folders of dead sessions only: not a live one's, another owner's or an unmarked one", async () => {
    const dir = stateDir();
    const folder = (name: string) => {
      const path = join(dir, name);
      mkdirSync(path);
      writeFileSync(join(path, 'hosts'), '127.0.0.1 localhost\n');
      return path;
    };
    const dead = folder('warren-sandbox-s-000000000001-AbC123');
    const live = folder('warren-sandbox-s-000000000002-AbC123');
    const other = folder('warren-sandbox-s-000000000003-AbC123');
    const unmarked = folder('warren-sandbox-s-000000000004-AbC123');
    const unrelated = folder('something-else');
    await markStateFolder(dead, '/home/me/.local/share/warren');
    await markStateFolder(live, '/home/me/.local/share/warren');
    await markStateFolder(other, '/srv/warren-b');
    const removed = await reclaimStateFolders(
      dir,
      '/home/me/.local/share/warren',
      (id) => id === 's-000000000002',
    );
    expect(removed).toEqual(['s-000000000001']);
    expect(existsSync(dead)).toBe(false);
    for (const kept of [live, other, unmarked, unrelated]) expect(existsSync(kept)).toBe(true);
  });

  it('leaves a folder with anything mounted inside (its files are not the crashed session’s to lose)', async () => {
    const dir = stateDir();
    const path = join(dir, 'warren-sandbox-s-000000000005-XyZ789');
    mkdirSync(join(path, 'mnt'), { recursive: true });
    await markStateFolder(path, 'me');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(path, 'mnt')]);
    cleanups.push(() => execFileSync('umount', ['-l', join(path, 'mnt')]));
    writeFileSync(join(path, 'mnt', 'precious'), 'keep me\n');
    expect(await reclaimStateFolders(dir, 'me', () => false)).toEqual([]);
    expect(existsSync(join(path, 'mnt', 'precious'))).toBe(true);
  });
});
