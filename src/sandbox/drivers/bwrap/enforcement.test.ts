import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../../../errors/index.js';
import type { SessionCgroups } from '../../limits/cgroup-setup.js';
import { normalizeSandboxSpec, type SandboxSpec } from '../../spec.js';
import { enforcementOf } from './enforcement.js';

const base: SandboxSpec = { sessionId: 's1', workspace: '/srv/work', command: ['true'] };
const MiB = 1024 * 1024;

/** What createSessionCgroups answers where no cgroup can be written. */
function noCgroups(limits: { memoryBytes?: number; pids?: number }): SessionCgroups {
  return {
    procsFiles: [],
    enforcement: [],
    unenforced: Object.entries(limits).map(([limit, value]) => ({
      limit: limit as 'memoryBytes' | 'pids',
      value: value,
      reason: 'cgroup v1 /sys/fs/cgroup/pids/warren/s1-x: EACCES',
    })),
    remove: async () => {},
  };
}

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('bwrap limit enforcement', () => {
  const defaults = { memoryBytes: 512 * MiB, pids: 4096, tmpBytes: 64 * MiB };

  it('drops and reports default limits no cgroup takes, and never uses RLIMIT_AS for a default', () => {
    const spec = normalizeSandboxSpec({ ...base, defaultLimits: defaults });
    const result = enforcementOf(spec, noCgroups({ memoryBytes: 512 * MiB, pids: 4096 }), {
      sandboxUserIsHostRoot: true,
    });
    expect(result.memoryFallbackKiB).toBeUndefined();
    expect(result.processFallback).toBeUndefined();
    expect(result.unenforced).toEqual([
      expect.objectContaining({ limit: 'memoryBytes', reason: 'no writable memory cgroup' }),
      expect.objectContaining({
        limit: 'pids',
        reason: 'no writable pids cgroup',
        detail: expect.any(String),
      }),
    ]);
    expect(result.limits).toEqual([
      { limit: 'tmpBytes', value: 64 * MiB, mechanism: 'tmpfs size of /tmp (bwrap --size)' },
    ]);
  });

  it('enforces pids with RLIMIT_NPROC where the sandbox user is not host root, explicit or default', () => {
    for (const spec of [
      normalizeSandboxSpec({ ...base, defaultLimits: { pids: 4096 } }),
      normalizeSandboxSpec({ ...base, limits: { pids: 4096 } }),
    ]) {
      const result = enforcementOf(spec, noCgroups({ pids: 4096 }), { sandboxUserIsHostRoot: false });
      expect(result.processFallback).toBe(4096);
      expect(result.unenforced).toEqual([]);
      expect(result.limits[0]?.mechanism).toMatch(
        /^RLIMIT_NPROC of the sandbox user in its own user namespace/,
      );
    }
  });

  it('refuses an explicit pids limit it cannot enforce, and falls back to RLIMIT_AS for explicit memory', () => {
    const pids = normalizeSandboxSpec({ ...base, limits: { pids: 64 } });
    const error = refusal(() =>
      enforcementOf(pids, noCgroups({ pids: 64 }), { sandboxUserIsHostRoot: true }),
    );
    expect(isWarrenError(error) && error.code).toBe('sandbox-failed');
    const memory = normalizeSandboxSpec({ ...base, limits: { memoryBytes: 64 * MiB } });
    const result = enforcementOf(memory, noCgroups({ memoryBytes: 64 * MiB }), {
      sandboxUserIsHostRoot: true,
    });
    expect(result.memoryFallbackKiB).toBe(65536);
    expect(result.limits[0]?.mechanism).toMatch(/^RLIMIT_AS per process/);
  });

  it('reports a default CPU share as not enforced (bwrap has none)', () => {
    const spec = normalizeSandboxSpec({ ...base, defaultLimits: { cpus: 2 } });
    expect(enforcementOf(spec, undefined, { sandboxUserIsHostRoot: true }).unenforced).toEqual([
      { limit: 'cpus', value: 2, reason: 'the bwrap driver has no CPU share' },
    ]);
  });
});
