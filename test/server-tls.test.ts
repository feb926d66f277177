import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/serve.js';

/** A self-signed certificate for 127.0.0.1 made with the openssl CLI (Debian package `openssl`). */
function selfSigned(folder: string): { certPath: string; keyPath: string } {
  const certPath = join(folder, 'cert.pem');
  const keyPath = join(folder, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(`install openssl (apt-get install openssl): ${(error as Error).message}`);
  }
  return { certPath, keyPath };
}

function post(url: string, ca: Buffer, body: unknown, headers: Record<string, string>) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'POST', ca, headers: { 'Content-Type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(body));
  });
}

describe('warren serve over HTTPS', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('serves HTTPS with Secure __Host- cookies and checks https Origins', { timeout: 60_000 }, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'warren-tls-'));
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    const tls = selfSigned(folder);
    const server = await startServer({
      env: { ...process.env, WARREN_HOME: join(folder, 'home') },
      host: '127.0.0.1',
      port: 0,
      tls,
    });
    cleanups.push(() => server.close());
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const origin = server.url.replace(/\/$/, '');
    const ca = readFileSync(tls.certPath);
    const token = server.setupUrl?.split('/setup/')[1];
    const foreign = await post(
      `${origin}/api/setup`,
      ca,
      { token, password: 'a long tls password' },
      { Origin: origin.replace('https', 'http') },
    );
    expect(foreign.status).toBe(403);
    const setup = await post(
      `${origin}/api/setup`,
      ca,
      { token, password: 'a long tls password' },
      { Origin: origin },
    );
    expect(setup.status).toBe(200);
    const cookie = String(setup.headers['set-cookie']);
    expect(cookie).toMatch(
      /^__Host-warren_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
    );
  });
});
