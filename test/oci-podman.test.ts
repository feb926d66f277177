import { createOciDriver } from '../src/sandbox/drivers/oci/index.js';
import { testImageForSuite } from './helpers/rootfs.js';
import { runSandboxDriverContract } from './sandbox/contract.case.js';

// The shared driver contract against real podman, with an image assembled from this host's binaries (no registry).
// When podman is missing each test fails with "podman is not installed: apt-get install podman" (or skips with
// WARREN_ALLOW_SKIP=1). Nothing is skipped.
// git for the protected-paths tests, which run git inside and on the host.
const image = await testImageForSuite({ withNode: true, withGit: true });

runSandboxDriverContract(
  'podman',
  () => createOciDriver({ engine: 'podman', image, instance: 'contract-test' }),
  [],
);
