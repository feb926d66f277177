import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { handBackFolder, handOverFolder, reclaimHandovers } from './workspace-handover.js';

const identity = { uid: 2000001000, gid: 2000001000 };
const folders: string[] = [];
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A workspace as a root user has it: root's files, one of another user's, a link out, a setuid program. */
function workspace() {
  const base = mkdtempSync(join(tmpdir(), 'warren-handover-'));
  folders.push(base);
  const root = join(base, 'work space');
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'src', 'main.ts'), 'code');
  writeFileSync(join(root, 'theirs'), 'another user');
  chownSync(join(root, 'theirs'), 1500, 1501);
  symlinkSync('/etc/hostname', join(root, 'link-out'));
  writeFileSync(join(root, 'tool'), '#!/bin/sh\n');
  chmodSync(join(root, 'tool'), 0o4755);
  return { base, root, ledger: join(base, 'ledger') };
}

const ownerOf = (path: string) => {
  const stats = lstatSync(path);
  return `${stats.uid}:${stats.gid}`;
};

describe.runIf(process.getuid?.() === 0)('workspace handover (as root)', () => {
  it('lends every entry to the identity, never following links, and clears setuid bits', async () => {
    const { root, ledger } = workspace();
    const hostname = statSync('/etc/hostname');
    await handOverFolder(root, identity, { dir: ledger, sessionId: 's-1' });
    for (const path of [root, join(root, 'src', 'main.ts'), join(root, 'theirs'), join(root, 'link-out')])
      expect(ownerOf(path)).toBe('2000001000:2000001000');
    expect(statSync('/etc/hostname').uid).toBe(hostname.uid);
    expect(statSync(join(root, 'tool')).mode & 0o7777).toBe(0o755);
    expect(existsSync(join(ledger, 's-1.json'))).toBe(true);
  });

  it("hands back: the agent's new files go to the folder owner, the others to their own", async () => {
    const { root, ledger } = workspace();
    const record = await handOverFolder(root, identity, { dir: ledger, sessionId: 's-2' });
    // What an agent running as the identity leaves: a new file, and a setuid program of its own.
    writeFileSync(join(root, 'src', 'new.ts'), 'agent');
    chownSync(join(root, 'src', 'new.ts'), identity.uid, identity.gid);
    writeFileSync(join(root, 'agent-suid'), '#!/bin/sh\n');
    chownSync(join(root, 'agent-suid'), identity.uid, identity.gid);
    chmodSync(join(root, 'agent-suid'), 0o4755);
    await handBackFolder(record, ledger);
    for (const path of [
      root,
      join(root, 'src', 'main.ts'),
      join(root, 'src', 'new.ts'),
      join(root, 'link-out'),
    ])
      expect(ownerOf(path)).toBe('0:0');
    expect(ownerOf(join(root, 'theirs'))).toBe('1500:1501');
    // Owned by root now, and not setuid: chown clears the bit.
    expect(statSync(join(root, 'agent-suid')).mode & 0o7777).toBe(0o755);
    expect(existsSync(join(ledger, 's-2.json'))).toBe(false);
  });

  it("a crashed session's workspace is handed back at the next start; a live one is kept", async () => {
    const { root, ledger } = workspace();
    await handOverFolder(root, identity, { dir: ledger, sessionId: 's-crashed' });
    const other = workspace();
    await handOverFolder(other.root, identity, { dir: ledger, sessionId: 's-live' });
    expect(await reclaimHandovers(ledger, (id) => id === 's-live')).toEqual(['s-crashed']);
    expect(ownerOf(join(root, 'src', 'main.ts'))).toBe('0:0');
    expect(ownerOf(join(other.root, 'src', 'main.ts'))).toBe('2000001000:2000001000');
  });

  it("never lends the root, a top-level folder, or a folder holding Warren's home", async () => {
    const { base, root } = workspace();
    for (const folder of ['/', '/root', '/tmp', '/usr/'])
      await expect(
        handOverFolder(folder, identity, { dir: join(base, 'ledger'), sessionId: 's-4' }),
      ).rejects.toThrow(/top-level folder of the host/);
    await expect(
      handOverFolder(root, identity, { dir: join(root, 'home', 'run', 'handover'), sessionId: 's-5' }),
    ).rejects.toThrow(/holds Warren's own home/);
    expect(ownerOf(root)).toBe('0:0');
  });

  it('refuses clearly when the folder cannot be lent', async () => {
    const { ledger } = workspace();
    await expect(
      handOverFolder('/nonexistent/workspace', identity, { dir: ledger, sessionId: 's-3' }),
    ).rejects.toThrow(/Could not lend \/nonexistent\/workspace to the sandbox identity/);
  });
});
