import { WarrenError } from '../errors/index.js';

const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512m", "4g", "1.5GiB", 1048576 → bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!match) {
    throw new WarrenError('invalid-argument', `"${value}" is not a size`, {
      hint: 'use a size like 512m or 4g',
    });
  }
  const bytes = Math.floor(Number(match[1]) * units[match[2]!.toLowerCase()]!);
  if (bytes <= 0) throw new WarrenError('invalid-argument', `size "${value}" must be positive`);
  return bytes;
}
