import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser.js';
import { startFakeUpstream, startRealServer } from './serve-harness.js';

const run = chromiumAvailable();
const PASSWORD = 'correct horse battery staple';
const HOSTILE_BODY =
  '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">allowed-upstream';

/** The terminal's visible text as xterm.js renders it (DOM renderer rows). */
function screenText(page: Page): Promise<string> {
  return page.locator('#terminal .xterm-rows').innerText();
}

async function waitForScreen(page: Page, text: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    (expected) => (document.querySelector('#terminal .xterm-rows')?.textContent ?? '').includes(expected),
    text,
    { timeout: timeoutMs },
  );
}

/** Sets the password through the setup link's token unless an earlier test already did. */
async function ensurePassword(server: { url: string; setupUrl: string | undefined }): Promise<void> {
  const token = server.setupUrl?.split('/setup/')[1];
  const origin = server.url.replace(/\/$/, '');
  const response = await fetch(`${origin}/api/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin },
    body: JSON.stringify({ token, password: PASSWORD }),
  });
  if (response.status !== 200 && response.status !== 409) throw new Error(`setup: ${response.status}`);
}

describe.skipIf(!run)('warren serve in Chromium', () => {
  let server: Awaited<ReturnType<typeof startRealServer>>;
  let allowedUpstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let refusedUpstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    server = await startRealServer();
    allowedUpstream = await startFakeUpstream(HOSTILE_BODY);
    refusedUpstream = await startFakeUpstream('should never be reached');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    await allowedUpstream?.close();
    await refusedUpstream?.close();
  });

  it(
    'sets the password, logs in, runs a shell, survives a reload, shows traffic inertly, logs out',
    { timeout: 180_000 },
    async () => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      // Setup link → password → logged in.
      expect(server.setupUrl).toBeDefined();
      await page.goto(server.setupUrl as string);
      await page.fill('#password', PASSWORD);
      await page.fill('#password-again', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('#new-session');

      // Log out and in again with the password.
      await page.click('#logout');
      await page.waitForSelector('#password');
      await page.fill('#password', 'not the password');
      await page.click('button[type=submit]');
      await expect.poll(() => page.locator('#banner').innerText()).toContain('wrong password');
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('#new-session');

      // A shell session allowed to reach one loopback upstream only.
      await page.click('#new-session');
      await page.waitForSelector('#agent option[value=shell]', { state: 'attached' });
      await page.selectOption('#agent', 'shell');
      await page.fill('#allow', `127.0.0.1:${allowedUpstream.port}`);
      await page.click('#start-session');
      await page.waitForURL(/#\/sessions\/s-[0-9a-f]+$/);
      await page.waitForSelector('#terminal .xterm-rows');
      await waitForScreen(page, '$');
      await page.click('#terminal');
      await page.keyboard.type('echo "warren-$((6*7))"\n');
      await waitForScreen(page, 'warren-42');

      // A reload draws the same screen from the server's snapshot.
      const before = await screenText(page);
      await page.reload();
      await waitForScreen(page, 'warren-42');
      expect(await screenText(page)).toContain('echo "warren-$((6*7))"');
      expect(before).toContain('warren-42');

      // Inside the sandbox NO_PROXY lists 127.0.0.1; drop it so that curl goes through Warren's proxy.
      await page.click('#terminal');
      const curl = 'env -u NO_PROXY -u no_proxy curl -s -o /dev/null -w "%{http_code}\\n"';
      await page.keyboard.type(
        `${curl} http://127.0.0.1:${allowedUpstream.port}/allowed; ${curl} http://127.0.0.1:${refusedUpstream.port}/refused\n`,
      );
      await page.waitForSelector(`tr.flow[data-host="127.0.0.1"] >> text=/allowed`);
      await page.waitForSelector(`tr.flow.refused >> text=/refused`);
      expect(allowedUpstream.requests).toEqual(['GET /allowed']);
      expect(refusedUpstream.requests).toEqual([]);

      // The hostile body is shown as text: no script ran, no element was created from it.
      await page.click('tr.flow:not(.refused)');
      await page.waitForSelector('.flow-detail pre.body-text');
      expect(await page.locator('.flow-detail pre.body-text').first().innerText()).toContain(
        '<script>window.__pwned = 1</script>',
      );
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('.flow-detail script, .flow-detail img').count()).toBe(0);

      // Allow the refused host for this running session, and the next request goes through.
      await page.click('button[data-tab=Policy]');
      await page.click('.refused-hosts button');
      await expect
        .poll(() => page.locator('.policy').innerText())
        .toContain(`127.0.0.1:${refusedUpstream.port}`);
      await page.click('button[data-tab=Traffic]');
      await page.click('#terminal');
      await page.keyboard.type(`${curl} http://127.0.0.1:${refusedUpstream.port}/now-allowed\n`);
      await page.waitForSelector('tr.flow:not(.refused) >> text=/now-allowed');
      expect(refusedUpstream.requests).toEqual(['GET /now-allowed']);

      if (process.env.WARREN_SCREENSHOTS)
        await page.screenshot({ path: `${process.env.WARREN_SCREENSHOTS}/session.png`, fullPage: true });
      // Another device logs in; this one sees it and logs it out.
      const origin = server.url.replace(/\/$/, '');
      const other = await fetch(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin, 'User-Agent': 'other-device' },
        body: JSON.stringify({ password: PASSWORD }),
      });
      const otherCookie = (other.headers.get('set-cookie') ?? '').split(';')[0] as string;
      await page.click('#devices');
      await page.waitForSelector('tr >> text=other-device');
      await page.click('#logout-others');
      await expect.poll(() => page.locator('#banner').innerText()).toContain('1 other device(s) logged out');
      expect((await fetch(`${origin}/api/me`, { headers: { Cookie: otherCookie } })).status).toBe(401);

      // Log out: the cookie no longer opens anything.
      await page.click('#logout');
      await page.waitForSelector('#password');
      // Our own log out is not reported as if another device had done it.
      await page.waitForTimeout(300);
      expect(await page.locator('#banner').innerText()).not.toContain('was logged out');
      const status = await page.evaluate(async () => (await fetch('/api/sessions')).status);
      expect(status).toBe(401);
      expect(pageErrors).toEqual([]);
    },
  );
  it(
    'works on a phone-sized screen: no sideways scrolling, and the key row sends keys',
    { timeout: 120_000 },
    async () => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      await page.setViewportSize({ width: 390, height: 844 });
      await ensurePassword(server);
      await page.goto(server.url);
      await page.waitForSelector('#password');
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('#new-session');
      await page.click('#new-session');
      await page.waitForSelector('#agent option[value=shell]', { state: 'attached' });
      await page.selectOption('#agent', 'shell');
      await page.click('#start-session');
      await page.waitForURL(/#\/sessions\/s-[0-9a-f]+$/);
      await waitForScreen(page, '$');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.click('#terminal');
      await page.keyboard.type('cat');
      await page.click('.key-row button[aria-label=Enter]');
      await page.keyboard.type('typed-into-cat');
      await page.click('.key-row button[aria-label=Enter]');
      await page.click('.key-row button[aria-label=Ctrl-C]');
      await page.keyboard.type('echo "after-$((1+1))"');
      await page.click('.key-row button[aria-label=Enter]');
      await waitForScreen(page, 'after-2');
      expect(await screenText(page)).toContain('^C');
      if (process.env.WARREN_SCREENSHOTS)
        await page.screenshot({ path: `${process.env.WARREN_SCREENSHOTS}/phone.png` });
      await page.click('#stop-session');
      await expect.poll(() => page.locator('#session-state').innerText()).toContain('ended');
    },
  );
  it(
    'a device logged out from another one leaves its live terminal for the login page, says why, and stops reconnecting',
    { timeout: 120_000 },
    async () => {
      await ensurePassword(server);
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const socketsOpened: string[] = [];
      page.on('websocket', (socket) => socketsOpened.push(socket.url()));
      await page.goto(server.url);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('#new-session');
      await page.click('#new-session');
      await page.waitForSelector('#agent option[value=shell]', { state: 'attached' });
      await page.selectOption('#agent', 'shell');
      await page.click('#start-session');
      await page.waitForURL(/#\/sessions\/s-[0-9a-f]+$/);
      await waitForScreen(page, '$');
      expect(socketsOpened.some((url) => url.endsWith('/terminal'))).toBe(true);
      expect(socketsOpened.some((url) => url.endsWith('/api/events'))).toBe(true);

      // Another device logs in and logs every other device out.
      const origin = server.url.replace(/\/$/, '');
      const other = await fetch(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin, 'User-Agent': 'other-device' },
        body: JSON.stringify({ password: PASSWORD }),
      });
      const otherCookie = (other.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrfToken } = (await other.json()) as { csrfToken: string };
      const revoke = await fetch(`${origin}/api/logins/revoke-others`, {
        method: 'POST',
        headers: { Cookie: otherCookie, 'X-CSRF-Token': csrfToken, Origin: origin },
      });
      // This page's login, and the earlier tests' if still open.
      expect(((await revoke.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);

      await page.waitForSelector('#password', { timeout: 5_000 });
      expect(await page.locator('#banner').innerText()).toContain('This device was logged out (logged out)');
      const opened = socketsOpened.length;
      await page.waitForTimeout(2_000);
      expect(socketsOpened.length).toBe(opened);
      expect(pageErrors).toEqual([]);
    },
  );
});
