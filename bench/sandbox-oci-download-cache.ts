import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDownloadCache } from '../src/proxy/index.js';
import { createBwrapDriver } from '../src/sandbox/index.js';
import { startFakeNpmRegistry } from '../test/sandbox-oci/fake-npm-registry.js';
import { createNpmSessionRig } from '../test/sandbox-oci/npm-session.js';

/**
 * Proxy download cache: `npm install` of a fixed set of packages in a fresh sandbox session (empty HOME, so an
 * empty npm cache), first with an empty proxy download cache, then again in another fresh session.
 *
 *   npx vite-node bench/sandbox-oci-download-cache.ts [packages] [metadataDelayMs] [tarballDelayMs] [rounds]
 *
 * The registry is a stand-in on loopback (test/sandbox-oci/fake-npm-registry.ts) answering each request after
 * a delay, like a remote registry (metadata) and its file host (tarballs); each package carries 64 KiB of incompressible filler.
 * Each round uses a new, empty cache folder. Sessions run under the bwrap driver through the real egress proxy.
 */
const packageCount = Number(process.argv[2] ?? 20);
const delayMs = Number(process.argv[3] ?? 50);
const tarballDelayMs = Number(process.argv[4] ?? delayMs);
const rounds = Number(process.argv[5] ?? 3);

const registry = await startFakeNpmRegistry({
  packageCount,
  hostname: 'registry.test',
  delayMs,
  tarballDelayMs,
});
const first: number[] = [];
const second: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'warren-bench-download-cache-'));
  const cache = createDownloadCache({ dir: cacheDir });
  const rig = await createNpmSessionRig({
    driver: createBwrapDriver(),
    registryUrl: registry.url,
    registryHost: 'registry.test',
    hooks: [cache.hook],
  });
  const before = registry.requests.tarballs;
  const cold = await rig.install(`cold-${round}`, registry.packageNames);
  const afterCold = registry.requests.tarballs;
  const warm = await rig.install(`warm-${round}`, registry.packageNames);
  if (cold.status !== 0 || warm.status !== 0) throw new Error(`npm failed: ${cold.stderr}${warm.stderr}`);
  first.push(cold.ms);
  second.push(warm.ms);
  console.log(
    `round ${round + 1}: first ${cold.ms.toFixed(0)} ms (${afterCold - before} tarballs from the registry), ` +
      `second ${warm.ms.toFixed(0)} ms (${registry.requests.tarballs - afterCold} from the registry, ${cache.stats().hits} cache hits)`,
  );
  await rig.close();
  rmSync(cacheDir, { recursive: true, force: true });
}
await registry.close();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
console.log(
  `packages ${packageCount}, metadata delay ${delayMs} ms, tarball delay ${tarballDelayMs} ms, rounds ${rounds}: median first ${median(first).toFixed(0)} ms, ` +
    `median second ${median(second).toFixed(0)} ms, second/first ${(median(second) / median(first)).toFixed(2)}`,
);
