import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFUSED_SYSCALLS } from '../bwrap/seccomp.js';
import { buildOciSeccompProfile, readOciSeccompProfile } from './seccomp-profile.js';

/** The shape of the engines' default profile: allow lists, some by capability, a default refusal. */
const engineDefault = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  syscalls: [
    {
      names: ['read', 'write', 'clone', 'clone3', 'unshare', 'keyctl', 'add_key'],
      action: 'SCMP_ACT_ALLOW',
      args: [],
    },
    { names: ['bpf', 'perf_event_open'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
  ],
};

describe('the containers seccomp profile', () => {
  const profile = buildOciSeccompProfile(engineDefault);
  const allowed = (name: string) =>
    profile.syscalls.filter((rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.names.includes(name));

  it("refuses bwrap's list with ENOSYS, whatever capability the engine would allow it for", () => {
    for (const { name } of REFUSED_SYSCALLS) expect(allowed(name)).toEqual([]);
    const refusal = profile.syscalls.find((rule) => rule.names.includes('keyctl'));
    expect(refusal).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it('allows clone and unshare only without CLONE_NEWUSER, and refuses clone3', () => {
    for (const name of ['clone', 'unshare']) {
      const rules = allowed(name);
      expect(rules).toHaveLength(1);
      expect(rules[0]?.args).toEqual([
        { index: 0, value: 0x10000000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
      ]);
    }
    expect(allowed('clone3')).toEqual([]);
    expect(allowed('read')).toHaveLength(1);
  });

  it("reads the host's default profile, and refuses clearly without one", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'warren-seccomp-'));
    try {
      const path = join(folder, 'seccomp.json');
      writeFileSync(path, JSON.stringify(engineDefault));
      expect(JSON.parse(await readOciSeccompProfile(path))).toEqual(profile);
      await expect(readOciSeccompProfile(join(folder, 'missing.json'))).rejects.toThrow(
        /built on the engine's default profile, which could not be read/,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
