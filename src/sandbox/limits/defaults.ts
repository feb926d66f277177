import type { SandboxLimits } from '../spec.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A share of the host's memory, rounded down to whole MiB, between `floor` and `cap`. */
function shareOf(hostMemoryBytes: number, divisor: number, floor: number, cap: number): number {
  const share = Math.floor(hostMemoryBytes / divisor / MiB) * MiB;
  return Math.min(cap, Math.max(floor, share));
}

/**
 * The limits every session gets unless the caller or the config sets them (docs/sandbox.md, "Default limits").
 * They bound what one session can take from the host, not what an agent normally needs:
 * - memory: half the host's RAM, at most 16 GiB: a runaway build cannot push the host into its OOM killer, and
 *   two sessions still fit. The tmpfs folders below are memory too and count against it.
 * - pids: 4096 processes and threads: far above a parallel build (rustc, a JVM, Chromium hold hundreds of
 *   threads), far below what takes a host down (a fork bomb stops there).
 * - /tmp and HOME: a quarter of the RAM each, at most 4 GiB (unsized they would be half the RAM each).
 * - /dev/shm: a sixteenth of the RAM, at most 1 GiB: browsers use it (docker's 64 MiB is too small for them).
 * No CPU time or CPU share: an agent session runs for hours, and a busy CPU does not take the host down.
 */
export function defaultSandboxLimits(hostMemoryBytes: number): SandboxLimits {
  return {
    memoryBytes: shareOf(hostMemoryBytes, 2, 256 * MiB, 16 * GiB),
    pids: 4096,
    tmpBytes: shareOf(hostMemoryBytes, 4, 64 * MiB, 4 * GiB),
    homeBytes: shareOf(hostMemoryBytes, 4, 64 * MiB, 4 * GiB),
    shmBytes: shareOf(hostMemoryBytes, 16, 64 * MiB, 1 * GiB),
  };
}

/** "12 GiB", "512 MiB", "64 KiB", "100 B": the unit that gives a short, exact-enough number. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [GiB, 'GiB'],
    [MiB, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units)
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  return `${bytes} B`;
}
