import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium; WARREN_CHROMIUM points elsewhere (e.g. to check the failure message). */
export const CHROMIUM_PATH = process.env.WARREN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * True when the browser tests can run. Without Chromium they fail with what to install, unless
 * WARREN_ALLOW_SKIP=1 says skipping is fine on this machine.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.WARREN_ALLOW_SKIP === '1') return false;
  throw new Error(`install chromium (apt-get install chromium): ${CHROMIUM_PATH} is missing`);
}

/** Headless Chromium with a fresh profile, nothing phoning home. The caller closes it. */
export async function launchChromium(
  viewport = { width: 1200, height: 900 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'warren-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
