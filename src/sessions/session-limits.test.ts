import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../errors/index.js';
import {
  limitDefaults,
  limitSettingsOfConfig,
  resolveSessionLimits,
  unenforcedNotice,
} from './session-limits.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('session limits', () => {
  it('takes each limit from the request, else from the config, and leaves the rest to the defaults', () => {
    const configured = limitSettingsOfConfig({
      driver: 'bwrap',
      caches: [],
      memory: '8g',
      pids: 2000,
      cpuTime: 600,
      tmpSize: '1g',
    });
    expect(resolveSessionLimits(configured)).toEqual({
      memoryBytes: 8 * GiB,
      pids: 2000,
      cpuSeconds: 600,
      tmpBytes: 1 * GiB,
    });
    expect(
      resolveSessionLimits(configured, { memory: 2 * GiB, pids: 100, homeSize: '512m', shmSize: '64m' }),
    ).toEqual({
      memoryBytes: 2 * GiB,
      pids: 100,
      cpuSeconds: 600,
      tmpBytes: 1 * GiB,
      homeBytes: 512 * MiB,
      shmBytes: 64 * MiB,
    });
    expect(resolveSessionLimits({}, {})).toEqual({});
  });

  it('refuses a size it cannot read', () => {
    let refusal: unknown;
    try {
      resolveSessionLimits({}, { tmpSize: 'lots' });
    } catch (error) {
      refusal = error;
    }
    expect(isWarrenError(refusal) && refusal.code).toBe('invalid-argument');
  });

  it('shows what a session that asks for nothing gets, and where each value comes from', () => {
    const defaults = limitDefaults({ memory: '6g' }, 8 * GiB);
    expect(defaults).toEqual([
      { limit: 'memoryBytes', value: 6 * GiB, source: 'config' },
      { limit: 'pids', value: 4096, source: 'warren' },
      { limit: 'tmpBytes', value: 2 * GiB, source: 'warren' },
      { limit: 'homeBytes', value: 2 * GiB, source: 'warren' },
      { limit: 'shmBytes', value: 512 * MiB, source: 'warren' },
    ]);
  });

  it('says in one line which default limits the host could not enforce', () => {
    expect(unenforcedNotice([])).toBeUndefined();
    const notice = unenforcedNotice([
      { limit: 'memoryBytes', value: 12 * GiB, reason: 'no writable memory cgroup', detail: 'EACCES …' },
      { limit: 'pids', value: 4096, reason: 'no writable pids cgroup' },
    ]);
    expect(notice).toBe(
      'warren: default limits not enforced on this host: memory 12 GiB (no writable memory cgroup), pids 4096 (no writable pids cgroup); see "Default limits" in docs/sandbox.md',
    );
    expect(notice).not.toContain('\n');
  });
});
