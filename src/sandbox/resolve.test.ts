import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../errors/index.js';
import { resolveDriver } from './resolve.js';

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isWarrenError(error)) throw new Error(`expected a WarrenError, got ${String(error)}`);
  return error;
}

describe('resolveDriver', () => {
  it('refuses an unknown driver and lists the known ones', async () => {
    const error = await refusal(resolveDriver('firecracker'));
    expect(error.code).toBe('driver-unavailable');
    expect(error.message).toContain('firecracker');
    expect(error.hint).toContain('bwrap');
  });

  it('refuses a driver whose binary is missing, naming the Debian package', async () => {
    const error = await refusal(resolveDriver('bwrap', { bwrap: { bwrapPath: '/nonexistent/bwrap' } }));
    expect(error.code).toBe('missing-dependency');
    expect(error.message).toBe('bubblewrap is not installed: apt-get install bubblewrap');
    const noSocat = await refusal(resolveDriver('bwrap', { bwrap: { socatPath: '/nonexistent/socat' } }));
    expect(noSocat.message).toContain('apt-get install socat');
  });

  it('does not treat inherited object keys as driver names', async () => {
    expect((await refusal(resolveDriver('toString'))).code).toBe('driver-unavailable');
  });
});
