import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './recorder.js';

describe('timeOrderedId', () => {
  it('is a UUIDv7 whose first 48 bits are the time, so ids sort by time', () => {
    const id = timeOrderedId(Date.UTC(2026, 10, 22, 3, 0, 0));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(Date.UTC(2026, 10, 22, 3, 0, 0));
    const ids = [1000, 2000, 3000, 1_000_000_000_000].map((time) => timeOrderedId(time));
    expect([...ids].sort()).toEqual(ids);
    expect(timeOrderedId(5)).not.toBe(timeOrderedId(5));
  });
});
