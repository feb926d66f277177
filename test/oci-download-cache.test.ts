import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { createDownloadCache } from '../src/proxy/index.js';
import { createBwrapDriver } from '../src/sandbox/index.js';
import { startFakeNpmRegistry, type FakeNpmRegistry } from './sandbox-oci/fake-npm-registry.js';
import { createNpmSessionRig, type NpmSessionRig } from './sandbox-oci/npm-session.js';

/**
 * The proxy download cache with real npm in real sandboxes: the second install of the same packages, in a fresh
 * session with an empty npm cache, gets every tarball from the proxy's cache and none from the registry.
 */
describe('proxy download cache', () => {
  let registry: FakeNpmRegistry;
  let rig: NpmSessionRig | undefined;
  let cacheDir: string;
  beforeEach(async () => {
    registry = await startFakeNpmRegistry({
      packageCount: 4,
      hostname: 'registry.test',
      fillerBytes: 32 * 1024,
    });
    cacheDir = mkdtempSync(join(tmpdir(), 'warren-download-cache-'));
  });
  afterEach(async () => {
    await rig?.close();
    await registry.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('a second npm install in a fresh session is served from the cache', async (context: TestContext) => {
    const driver = createBwrapDriver();
    const availability = await driver.available();
    if (!availability.ok) {
      if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
      throw new Error(`${availability.reason}: ${availability.install}`);
    }
    if (!existsSync('/usr/bin/npm')) throw new Error('npm is not installed under /usr: apt-get install npm');
    const cache = createDownloadCache({ dir: cacheDir });
    rig = await createNpmSessionRig({
      driver,
      registryUrl: registry.url,
      registryHost: 'registry.test',
      hooks: [cache.hook],
    });

    const first = await rig.install('first', registry.packageNames);
    expect(first.status, `npm failed or hung: ${first.stderr}${first.stdout}`).toBe(0);
    expect(first.stderr).toBe('');
    expect(readFileSync(join(first.workspace, 'node_modules/warren-fixture-3/index.js'), 'utf8')).toContain(
      'warren-fixture-3',
    );
    expect(registry.requests).toEqual({ packuments: 4, tarballs: 4 });
    expect(cache.stats()).toEqual({ hits: 0, stored: 4 });

    const second = await rig.install('second', registry.packageNames);
    expect(second.status, `npm failed or hung: ${second.stderr}${second.stdout}`).toBe(0);
    expect(existsSync(join(second.workspace, 'node_modules/warren-fixture-0/index.js'))).toBe(true);
    // Packuments change over time and are asked again; tarballs are immutable and came from the cache.
    expect(registry.requests).toEqual({ packuments: 8, tarballs: 4 });
    expect(cache.stats().hits).toBe(4);

    const cachedFlows = rig.flows.filter((flow) => flow.sessionId === 'second' && flow.url.endsWith('.tgz'));
    expect(cachedFlows).toHaveLength(4);
    for (const flow of cachedFlows) {
      expect(flow.response?.status).toBe(200);
      expect(flow.response?.headers).toContainEqual(['X-Warren-Cache', 'hit']);
      expect(flow.policy.reason).toMatch(/served from the proxy download cache \(npm-tarball\)$/);
    }
  }, 200_000);
});
