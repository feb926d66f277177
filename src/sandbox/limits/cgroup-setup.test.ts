import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wrapWithCgroupJoin, CGROUP_JOIN_FAILURE_STATUS } from './cgroup-join.js';
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

describe('wrapWithCgroupJoin', () => {
  it('returns the command unchanged without cgroups', () => {
    expect(wrapWithCgroupJoin([], { file: '/usr/bin/env', args: ['-i'] })).toEqual({
      file: '/usr/bin/env',
      args: ['-i'],
    });
  });

  it('writes its own pid to every procs file, then execs the command in the same process', () => {
    const folder = mkdtempSync(join(tmpdir(), 'warren-join-'));
    try {
      const files = [join(folder, 'a procs'), join(folder, "b'procs")];
      const wrapped = wrapWithCgroupJoin(files, { file: '/bin/sh', args: ['-c', 'echo $$'] });
      const result = spawnSync(wrapped.file, wrapped.args);
      const pid = result.stdout.toString().trim();
      expect(pid).toMatch(/^\d+$/);
      for (const file of files) expect(readFileSync(file, 'utf8').trim()).toBe(pid);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses to start the command when a cgroup cannot be joined', () => {
    const wrapped = wrapWithCgroupJoin(['/nonexistent/cgroup.procs'], {
      file: '/bin/echo',
      args: ['started'],
    });
    const result = spawnSync(wrapped.file, wrapped.args);
    expect(result.status).toBe(CGROUP_JOIN_FAILURE_STATUS);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toContain('could not move the sandbox into /nonexistent/cgroup.procs');
  });
});
