import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyCommand } from '../src/cli/commands/proxy.js';
import { createCertificateAuthority, validateHar } from '../src/proxy/index.js';
import { echoHandler, startHttpUpstream, startHttpsUpstream, type FakeUpstream } from './helpers/upstream.js';

/** `warren proxy` run in-process with a stop signal the test controls; real curl as the client. */

const run = promisify(execFile);
let dir: string | undefined;
let upstream: FakeUpstream | undefined;
let secureUpstream: FakeUpstream | undefined;

afterEach(async () => {
  await upstream?.close();
  await secureUpstream?.close();
  secureUpstream = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  upstream = undefined;
});

describe('warren proxy', () => {
  it('serves, logs one line per flow, and writes the HAR and key log when stopped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'warren-proxy-cli-'));
    upstream = await startHttpUpstream(echoHandler('via the command'));
    const upstreamCa = await createCertificateAuthority({ dir: join(dir, 'upstream-ca') });
    secureUpstream = await startHttpsUpstream(upstreamCa, echoHandler('secure via the command'));
    let stop!: (signal: string) => void;
    const command = createProxyCommand({ stopSignal: () => new Promise((resolve) => (stop = resolve)) });
    const stdout = new PassThrough();
    let output = '';
    stdout.on('data', (chunk: Buffer) => (output += chunk));
    const exit = command.run(
      [
        '--port',
        '0',
        '--allow',
        '127.0.0.1',
        '--deny',
        'blocked.example',
        '--har',
        'out.har',
        '--keylog',
        'keys.log',
      ],
      {
        env: { WARREN_HOME: join(dir, 'home'), NODE_EXTRA_CA_CERTS: upstreamCa.certificatePath },
        stdin: process.stdin,
        stdout,
        stderr: stdout,
        cwd: dir,
      },
    );
    while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(output))
      await new Promise((r) => setTimeout(r, 20));
    const proxyPort = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]!;
    expect(output).toContain(`CA certificate: ${join(dir, 'home', 'ca', 'ca.pem')}`);
    expect(output).toContain('--allow 127.0.0.1 (the address 127.0.0.1, any port)');

    const proxyArgs = ['-sS', '--proxy', `http://127.0.0.1:${proxyPort}`];
    const allowed = await run('curl', [...proxyArgs, `http://127.0.0.1:${upstream.port}/ok`]);
    expect(allowed.stdout).toBe('via the command');
    const denied = await run('curl', [
      ...proxyArgs,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://blocked.example/',
    ]);
    expect(denied.stdout).toBe('403');
    await run('curl', [...proxyArgs, 'https://blocked.example/']).catch(() => undefined);
    const caPath = join(dir, 'home', 'ca', 'ca.pem');
    const secure = await run('curl', [
      ...proxyArgs,
      '--cacert',
      caPath,
      `https://127.0.0.1:${secureUpstream.port}/tls`,
    ]);
    expect(secure.stdout).toBe('secure via the command');

    stop('SIGINT');
    expect(await exit).toBe(0);
    expect(output).toMatch(
      new RegExp(`allow GET http://127\\.0\\.0\\.1:${upstream.port}/ok 200 \\d+ms 15 B`),
    );
    expect(output).toMatch(
      /DENY  GET http:\/\/blocked\.example\/ 403 \d+ms .* \(the rule --deny blocked\.example matches/,
    );
    expect(output).toMatch(/DENY  CONNECT https:\/\/blocked\.example:443\/ 403/);
    expect(output).toMatch(new RegExp(`allow GET https://127\\.0\\.0\\.1:${secureUpstream.port}/tls 200`));
    expect(output).toContain(`Wrote 4 flows to ${join(dir, 'out.har')}`);
    const har = JSON.parse(await readFile(join(dir, 'out.har'), 'utf8')) as unknown;
    expect(validateHar(har)).toEqual([]);
    const keylog = (await readFile(join(dir, 'keys.log'), 'utf8')).trim().split('\n');
    expect(keylog.length).toBeGreaterThanOrEqual(10);
    for (const line of keylog) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
  });

  it('refuses a bad rule or port with a clear message', async () => {
    const command = createProxyCommand({ stopSignal: () => Promise.resolve('test') });
    const context = {
      env: {},
      stdin: process.stdin,
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      cwd: '/',
    };
    await expect(command.run(['--allow', '*.com'], context)).rejects.toThrow(/public suffix/);
    await expect(command.run(['--port', '70000'], context)).rejects.toThrow(
      /--port must be a number from 0 to 65535/,
    );
  });
});
