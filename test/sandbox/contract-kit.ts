import type { Server } from 'node:net';
import type { TestContext } from 'vitest';
import {
  runSandboxed,
  type SandboxDriver,
  type SandboxRunResult,
  type SandboxSpec,
} from '../../src/sandbox/index.js';
import type { SandboxFixture } from './fixtures.js';

/** What the contract's test groups share: the driver and fixture of the running test, and how to declare a test. */
export interface ContractKit {
  driver(): SandboxDriver;
  fixture(): SandboxFixture;
  /** Declares one contract test; skipped (with its reason) when the driver lists it, failed when it is unavailable. */
  contractTest(name: string, body: (context: TestContext) => Promise<void>, timeoutMs?: number): void;
}

export const sh = (script: string) => ['/bin/sh', '-c', script];

/** Runs a shell script in the sandbox of the current test's fixture. */
export function runScript(
  kit: ContractKit,
  script: string,
  overrides: Partial<SandboxSpec> = {},
  timeoutMs = 20_000,
): Promise<SandboxRunResult> {
  return runSandboxed(kit.driver(), kit.fixture().spec(sh(script), overrides), { timeoutMs });
}

export function listen(server: Server, address: string | number): Promise<void> {
  return new Promise((resolve) => {
    if (typeof address === 'number') server.listen(address, '127.0.0.1', resolve);
    else server.listen(address, resolve);
  });
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
