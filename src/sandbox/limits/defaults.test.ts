import { describe, expect, it } from 'vitest';
import { defaultSandboxLimits, formatBytes } from './defaults.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('default sandbox limits', () => {
  it('takes shares of the host RAM, capped, in whole MiB', () => {
    // This host: 23.6 GiB.
    expect(defaultSandboxLimits(24_151 * MiB)).toEqual({
      memoryBytes: 12_075 * MiB,
      pids: 4096,
      tmpBytes: 4 * GiB,
      homeBytes: 4 * GiB,
      shmBytes: 1 * GiB,
    });
    expect(defaultSandboxLimits(8 * GiB)).toEqual({
      memoryBytes: 4 * GiB,
      pids: 4096,
      tmpBytes: 2 * GiB,
      homeBytes: 2 * GiB,
      shmBytes: 512 * MiB,
    });
    const large = defaultSandboxLimits(512 * GiB);
    expect([large.memoryBytes, large.tmpBytes, large.homeBytes, large.shmBytes]).toEqual([
      16 * GiB,
      4 * GiB,
      4 * GiB,
      1 * GiB,
    ]);
  });

  it('keeps a floor on a tiny host, and /tmp, HOME and /dev/shm together below the memory limit', () => {
    const tiny = defaultSandboxLimits(256 * MiB);
    expect(tiny).toMatchObject({ memoryBytes: 256 * MiB, tmpBytes: 64 * MiB, shmBytes: 64 * MiB });
    for (const host of [1, 2, 4, 8, 16, 24, 64, 256].map((size) => size * GiB)) {
      const limits = defaultSandboxLimits(host);
      expect(limits.tmpBytes! + limits.homeBytes! + limits.shmBytes!).toBeLessThanOrEqual(host * 0.75);
      expect(limits.memoryBytes! % MiB).toBe(0);
    }
  });

  it('formats sizes with the largest unit that fits', () => {
    expect(formatBytes(4 * GiB)).toBe('4 GiB');
    expect(formatBytes(12_075 * MiB)).toBe('11.8 GiB');
    expect(formatBytes(512 * MiB)).toBe('512 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100)).toBe('100 B');
  });
});
