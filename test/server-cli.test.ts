import { spawn as spawnChild } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn as spawnPty } from '@lydell/node-pty';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';

const warren = join(import.meta.dirname, '..', 'bin', 'warren.js');
const built = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

describe('warren passwd and warren serve (the built CLI)', () => {
  let home: string;
  beforeEach(() => {
    if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    home = mkdtempSync(join(tmpdir(), 'warren-cli-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const storedHash = () => {
    const store = openStore(join(home, 'warren.db'));
    try {
      return store.auth.findUser('admin')?.passwordHash;
    } finally {
      store.close();
    }
  };

  it('asks twice on a terminal without echoing the password', async () => {
    const pty = spawnPty(process.execPath, [warren, 'passwd'], {
      cols: 80,
      rows: 10,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WARREN_HOME: home },
    });
    let screen = '';
    pty.onData((data) => (screen += data));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!screen.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" in ${JSON.stringify(screen)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
    await waitFor('New password:');
    pty.write('typed secret words\r');
    await waitFor('Repeat it:');
    pty.write('typed secret words\r');
    expect(await exited).toBe(0);
    expect(screen).toContain('Password set.');
    expect(screen).not.toContain('typed secret words');
    expect(storedHash()).toMatch(/^\$argon2id\$/);
  });

  it('reads the password from stdin when it is not a terminal, and refuses a short one', async () => {
    const run = (input: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawnChild(process.execPath, [warren, 'passwd'], {
          env: { ...process.env, WARREN_HOME: home },
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('close', (code) => resolve({ code, output }));
        child.stdin.end(input);
      });
    const short = await run('short\n');
    expect(short.code).not.toBe(0);
    expect(short.output).toContain('at least 10 characters');
    expect(storedHash()).toBeUndefined();
    expect((await run('a piped long password\n')).code).toBe(0);
    expect(storedHash()).toMatch(/^\$argon2id\$/);
  });

  it('refuses to serve plain HTTP on a non-loopback address, explaining why', async () => {
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawnChild(process.execPath, [warren, 'serve', '--host', '0.0.0.0', '--port', '0'], {
        env: { ...process.env, WARREN_HOME: home },
      });
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('refusing to serve plain HTTP on 0.0.0.0');
    expect(result.output).toContain('tailscale serve');
  });

  it('prints the setup link with the --public-url name, and refuses a --public-url that is not an origin', async () => {
    const child = spawnChild(
      process.execPath,
      [warren, 'serve', '--port', '0', '--public-url', 'https://warren.tailnet.ts.net'],
      { env: { ...process.env, WARREN_HOME: home } },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('#/setup/') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGTERM');
    await exited;
    expect(stdout).toMatch(
      /Warren is serving on http:\/\/127\.0\.0\.1:\d+\/ \(browsers: https:\/\/warren\.tailnet\.ts\.net\/\)/,
    );
    expect(stdout).toMatch(/^  https:\/\/warren\.tailnet\.ts\.net\/#\/setup\/[\w-]+$/m);

    const refused = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const bad = spawnChild(
        process.execPath,
        [warren, 'serve', '--port', '0', '--public-url', 'warren.example'],
        {
          env: { ...process.env, WARREN_HOME: home },
        },
      );
      let output = '';
      bad.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      bad.on('close', (code) => resolve({ code, output }));
    });
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('--public-url warren.example: not an origin');
  });
});
