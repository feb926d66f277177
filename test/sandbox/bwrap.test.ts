import { createBwrapDriver } from '../../src/sandbox/index.js';
import { runSandboxDriverContract } from './contract.case.js';

// Every contract test runs against the real bwrap; none is skipped. When bwrap is missing each test fails with
// "bubblewrap is not installed: apt-get install bubblewrap" (or skips, with WARREN_ALLOW_SKIP=1).
runSandboxDriverContract('bwrap', () => createBwrapDriver(), []);
