import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildContainersEtcFiles,
  buildUserStorageConf,
  prepareNestedContainers,
} from './nested-containers.js';

describe('nested containers configuration', () => {
  it('keeps images in the session HOME with one uid, and inner containers on the sandbox network', () => {
    const storage = buildUserStorageConf();
    expect(storage).toContain('graphroot = "/home/agent/.local/share/containers/storage"');
    expect(storage).toContain('driver = "vfs"');
    expect(storage).toMatch(/\[storage\.options\.vfs\]\s*\n(#.*\n)?ignore_chown_errors = "true"/);
    const engine = buildContainersEtcFiles().find((file) => file.name === 'containers.conf')?.content ?? '';
    expect(engine).toContain('netns = "host"');
    expect(engine).toContain('runtime = "runc"');
    expect(buildContainersEtcFiles().map((file) => file.name)).toEqual([
      'containers.conf',
      'policy.json',
      'registries.conf',
    ]);
  });

  it('writes the files into the state folder; without cgroup v2 it shows the v1 tree read-only', async () => {
    const state = mkdtempSync(join(tmpdir(), 'warren-nested-unit-'));
    try {
      const prepared = await prepareNestedContainers(state, 's1', { v1: {}, v2: undefined });
      expect(prepared.host.cgroupFolder).toBe('/sys/fs/cgroup');
      expect(readFileSync(prepared.host.storageConfPath, 'utf8')).toBe(buildUserStorageConf());
      expect(readFileSync(join(prepared.host.etcDir, 'policy.json'), 'utf8')).toContain(
        'insecureAcceptAnything',
      );
      await prepared.remove();
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('makes an empty cgroup for the session under the v2 folder and removes it', async () => {
    const state = mkdtempSync(join(tmpdir(), 'warren-nested-unit-'));
    const fakeV2 = mkdtempSync(join(tmpdir(), 'warren-nested-cgroup-'));
    mkdirSync(join(state, 'b'));
    try {
      const prepared = await prepareNestedContainers(state, 's1', { v1: {}, v2: fakeV2 });
      expect(prepared.host.cgroupFolder).toMatch(new RegExp(`^${fakeV2}/warren-nested-s1-[0-9a-f]{8}$`));
      await prepared.remove();
      expect(() => readFileSync(prepared.host.cgroupFolder)).toThrow(/ENOENT/);
      // A v2 folder where no child can be made (not root, nothing delegated): its own folder is shown instead.
      const missing = join(fakeV2, 'missing');
      const fallback = await prepareNestedContainers(join(state, 'b'), 's2', { v1: {}, v2: missing });
      expect(fallback.host.cgroupFolder).toBe(missing);
    } finally {
      rmSync(state, { recursive: true, force: true });
      rmSync(fakeV2, { recursive: true, force: true });
    }
  });
});
