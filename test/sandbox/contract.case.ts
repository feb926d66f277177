import { afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import type { DriverAvailability, SandboxDriver } from '../../src/sandbox/index.js';
import { registerBehaviourTests } from './contract-behaviour.case.js';
import { registerEscapeTests } from './contract-escapes.case.js';
import { registerProtectedPathTests } from './contract-protected-paths.case.js';
import { registerHostPrivilegeTests } from './contract-host-privilege.case.js';
import type { ContractKit } from './contract-kit.js';
import { registerLimitTests } from './contract-limits.case.js';
import { createSandboxFixture, type SandboxFixture } from './fixtures.js';

export interface SkippedContractTest {
  name: string;
  reason: string;
}

/**
 * The behaviour every sandbox driver must show, escape attempts first-class. A driver that cannot pass a test
 * lists it in `skipped` with the reason; the suite then reports it as skipped, never as passed. When the driver is
 * unavailable (its engine is not installed) every test fails with what to install, or skips with
 * WARREN_ALLOW_SKIP=1.
 */
export function runSandboxDriverContract(
  driverName: string,
  createDriver: () => SandboxDriver,
  skipped: SkippedContractTest[] = [],
): void {
  describe(`sandbox driver contract: ${driverName}`, () => {
    let driver: SandboxDriver;
    let availability: DriverAvailability;
    let fixture: SandboxFixture;

    beforeAll(async () => {
      driver = createDriver();
      availability = await driver.available();
    });
    beforeEach(async () => {
      fixture = await createSandboxFixture();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    const kit: ContractKit = {
      driver: () => driver,
      fixture: () => fixture,
      contractTest(name, body, timeoutMs = 30_000) {
        const skip = skipped.find((entry) => entry.name === name);
        if (skip) {
          it.skip(`${name} (skipped: ${skip.reason})`, () => undefined);
          return;
        }
        it(
          name,
          async (context) => {
            if (!availability.ok) {
              if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
              throw new Error(`${availability.reason}: ${availability.install}`);
            }
            await body(context);
          },
          timeoutMs,
        );
      },
    };
    registerBehaviourTests(kit);
    registerEscapeTests(kit);
    registerProtectedPathTests(kit);
    registerHostPrivilegeTests(kit);
    registerLimitTests(kit);
  });
}
