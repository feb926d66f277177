import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { chromiumAvailable, launchChromium } from './browser.js';

const run = chromiumAvailable();
const PASSWORD = 'session options in a browser';

describe.skipIf(!run)('the new-session form: GPU and shared caches', () => {
  let home: string;
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'warren-form-'));
    writeFileSync(join(home, 'warren.yaml'), 'sandbox:\n  caches: [npm]\n');
    server = await startServer({ env: { ...process.env, WARREN_HOME: home }, host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it(
    "shows the configured caches checked, the driver's GPU error in the form, and sends the caches picked",
    { timeout: 120_000 },
    async () => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(server.setupUrl as string);
      await page.fill('#password', PASSWORD);
      await page.fill('#password-again', PASSWORD);
      await page.click('button[type=submit]');
      await page.click('#new-session');
      await page.waitForSelector('#cache-apt', { state: 'attached' });
      expect(await page.isChecked('#cache-npm')).toBe(true);
      expect(await page.isChecked('#cache-pip')).toBe(false);
      expect(await page.isChecked('#gpu')).toBe(false);
      await page.selectOption('#agent', 'shell');

      if (!existsSync('/dev/nvidiactl')) {
        await page.check('#gpu');
        await page.click('#start-session');
        await expect.poll(() => page.locator('#banner').innerText()).toContain('No NVIDIA GPU on this host');
        expect(await page.locator('#banner').innerText()).toContain('without GPU access');
        // Still on the form, with what was filled in, ready to try again.
        expect(page.url()).toMatch(/#\/new$/);
        expect(await page.isEnabled('#start-session')).toBe(true);
        if (process.env.WARREN_SCREENSHOTS)
          await page.screenshot({
            path: `${process.env.WARREN_SCREENSHOTS}/new-session.png`,
            fullPage: true,
          });
        await page.uncheck('#gpu');
      }

      await page.uncheck('#cache-npm');
      await page.check('#cache-pip');
      await page.click('#start-session');
      await page.waitForURL(/#\/sessions\/s-[0-9a-f]+$/);
      const id = /s-[0-9a-f]+$/.exec(page.url())?.[0] as string;
      expect(server.runtime.store.sessions.get(id)?.details).toMatchObject({ gpu: false, caches: ['pip'] });
      await page.waitForSelector('#terminal .xterm-rows');
      await page.click('#terminal');
      await page.keyboard.type('echo "pip-cache:$PIP_CACHE_DIR npm-cache:${npm_config_cache:-none}"\n');
      await page.waitForFunction(() =>
        (document.querySelector('#terminal .xterm-rows')?.textContent ?? '').includes(
          'pip-cache:/var/cache/warren/pip npm-cache:none',
        ),
      );
      await page.click('#stop-session');
      await expect.poll(() => page.locator('#session-state').innerText()).toContain('ended');
      expect(pageErrors).toEqual([]);
    },
  );
});
