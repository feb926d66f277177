import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSessionCgroups } from './cgroup-setup.js';

describe('session cgroups', () => {
  it('reports limits as unenforced, with the reason, where no hierarchy offers the controller', async () => {
    const cgroups = await createSessionCgroups({
      limits: { memoryBytes: 64 * 1024 * 1024, pids: 10 },
      location: { v1: {}, v2: undefined },
      name: 'unit',
    });
    expect(cgroups.procsFiles).toEqual([]);
    expect(cgroups.unenforced.map((entry) => entry.limit).sort()).toEqual(['memoryBytes', 'pids']);
    expect(cgroups.unenforced[0]?.reason).toMatch(/no cgroup hierarchy offers/);
    await cgroups.remove();
  });

  it('reports a cgroup folder that cannot be created as unenforced', async () => {
    const cgroups = await createSessionCgroups({
      limits: { pids: 10 },
      location: { v1: { pids: '/proc/warren-not-writable' }, v2: undefined },
      name: 'unit',
    });
    expect(cgroups.unenforced).toEqual([
      expect.objectContaining({
        limit: 'pids',
        value: 10,
        reason: expect.stringContaining('/proc/warren-not-writable'),
      }),
    ]);
  });
});

describe('session cgroups on cgroup v2 (a plain folder tree standing in for cgroupfs)', () => {
  /** parent/ has the controllers enabled for its children; own/ holds this process. */
  function fakeHierarchy(options: { parentWritable: boolean }) {
    const root = mkdtempSync(join(tmpdir(), 'warren-fake-cgroup-'));
    const parent = join(root, 'user.slice');
    const own = join(parent, 'own.scope');
    mkdirSync(own, { recursive: true });
    for (const folder of [parent, own])
      writeFileSync(join(folder, 'cgroup.controllers'), 'cpu memory pids\n');
    // cgroupfs makes these files on mkdir; a plain folder needs them made by hand.
    if (options.parentWritable) {
      mkdirSync(join(parent, 'warren'));
      writeFileSync(join(parent, 'warren', 'cgroup.controllers'), 'memory pids\n');
    }
    return { root, parent, own };
  }

  it('places the session cgroup beside its own cgroup, with the limits written', async () => {
    const tree = fakeHierarchy({ parentWritable: true });
    try {
      const cgroups = await createSessionCgroups({
        limits: { memoryBytes: 64 * 1024 * 1024, pids: 10 },
        location: { v1: {}, v2: tree.own },
        name: 's1-abcd',
      });
      const folder = join(tree.parent, 'warren', 's1-abcd');
      expect(cgroups.unenforced).toEqual([]);
      expect(cgroups.procsFiles).toEqual([join(folder, 'cgroup.procs')]);
      expect(readFileSync(join(tree.parent, 'warren', 'cgroup.subtree_control'), 'utf8')).toBe(
        '+memory +pids',
      );
      expect(readFileSync(join(folder, 'memory.max'), 'utf8')).toBe(String(64 * 1024 * 1024));
      expect(readFileSync(join(folder, 'pids.max'), 'utf8')).toBe('10');
      expect(cgroups.enforcement.map((entry) => entry.mechanism)).toEqual([
        `cgroup v2 at ${folder}`,
        `cgroup v2 at ${folder}`,
      ]);
    } finally {
      rmSync(tree.root, { recursive: true, force: true });
    }
  });

  it('reports every place it tried when none takes the limits', async () => {
    const tree = fakeHierarchy({ parentWritable: false });
    try {
      const cgroups = await createSessionCgroups({
        limits: { pids: 10 },
        location: { v1: {}, v2: tree.own },
        name: 's1-abcd',
      });
      expect(cgroups.procsFiles).toEqual([]);
      expect(cgroups.unenforced).toHaveLength(1);
      expect(cgroups.unenforced[0]?.reason).toContain(join(tree.parent, 'warren', 's1-abcd'));
      expect(cgroups.unenforced[0]?.reason).toContain(join(tree.own, 'warren', 's1-abcd'));
    } finally {
      rmSync(tree.root, { recursive: true, force: true });
    }
  });
});
