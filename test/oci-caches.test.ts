import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheCommand } from '../src/cli/commands/cache.js';
import { createBwrapDriver, createOciDriver, runSandboxed } from '../src/sandbox/index.js';
import { testImageForSuite } from './helpers/rootfs.js';
import { useDriverSuite } from './sandbox/fixtures.js';

const image = await testImageForSuite();

describe('shared package caches', () => {
  const sandbox = useDriverSuite(() => createOciDriver({ image }));
  let warrenHome: string;
  beforeEach(() => {
    warrenHome = mkdtempSync(join(tmpdir(), 'warren-home-caches-'));
  });
  afterEach(() => {
    rmSync(warrenHome, { recursive: true, force: true });
  });

  it('a file cached by one session is there in the next, in podman and bwrap, with the variables set', async (context) => {
    sandbox.require(context);
    const cachesDir = join(warrenHome, 'caches');
    const podman = createOciDriver({ image, cachesDir });
    const write = await runSandboxed(
      podman,
      sandbox.fixture.spec(
        [
          '/bin/sh',
          '-c',
          'echo "$npm_config_cache $CARGO_HOME"; echo cached-once > "$npm_config_cache/marker"; touch $CARGO_HOME/registry/crate $CARGO_HOME/own-file && echo cargo-ok',
        ],
        {
          caches: ['npm', 'cargo'],
        },
      ),
    );
    expect(write.stderr).toBe('');
    expect(write.stdout).toBe('/var/cache/warren/npm /home/agent/.cargo\ncargo-ok\n');
    expect(existsSync(join(cachesDir, 'npm/cacache/marker'))).toBe(true);
    expect(existsSync(join(cachesDir, 'cargo/registry/crate'))).toBe(true);

    const read = await runSandboxed(
      podman,
      sandbox.fixture.spec(['/bin/sh', '-c', 'cat "$npm_config_cache/marker"; ls $CARGO_HOME'], {
        caches: ['npm', 'cargo'],
      }),
    );
    expect(read.stdout).toBe('cached-once\ngit\nregistry\n'); // own-file stayed in the first session's HOME

    // bwrap sessions (the user running Warren inside) cannot enter folders chowned to podman's private uid
    // range, so a cache is used by one kind of driver; here bwrap gets its own.
    const bwrapDriver = createBwrapDriver({ cachesDir: join(warrenHome, 'caches-bwrap') });
    await runSandboxed(
      bwrapDriver,
      sandbox.fixture.spec(['/bin/sh', '-c', 'echo bwrap-cached > "$npm_config_cache/m"'], {
        caches: ['npm'],
      }),
    );
    const bwrap = await runSandboxed(
      bwrapDriver,
      sandbox.fixture.spec(['/bin/sh', '-c', 'cat "$npm_config_cache/m"; echo "$PIP_CACHE_DIR"'], {
        caches: ['npm', 'pip'],
      }),
    );
    expect(bwrap.stdout).toBe('bwrap-cached\n/var/cache/warren/pip\n');

    const without = await runSandboxed(
      podman,
      sandbox.fixture.spec(['/bin/sh', '-c', 'echo "[$npm_config_cache]"; ls /var/cache/warren']),
    );
    expect(without.stdout).toBe('[]\n');
  });

  it('warren cache ls shows sizes and clear empties one kind or all', async () => {
    const env = { ...process.env, WARREN_HOME: warrenHome };
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const context = { env, stdin: process.stdin, stdout: output, stderr: output, cwd: warrenHome };
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(warrenHome, 'caches/npm/cacache'), { recursive: true });
    writeFileSync(join(warrenHome, 'caches/npm/cacache/blob'), Buffer.alloc(2048));
    mkdirSync(join(warrenHome, 'caches/pip/cache'), { recursive: true });
    writeFileSync(join(warrenHome, 'caches/pip/cache/wheel'), 'x');

    expect(await cacheCommand.run(['ls'], context)).toBe(0);
    expect(text).toMatch(/^KIND\s+SIZE\s+FILES\s+FOLDER$/m);
    expect(text).toMatch(new RegExp(`^npm\\s+2\\.0 KiB\\s+1\\s+${warrenHome}/caches/npm$`, 'm'));
    expect(text).toMatch(/^cargo\s+0 B\s+0\s/m);
    expect(text).toMatch(new RegExp(`^proxy\\s+0 B\\s+0\\s+${warrenHome}/caches/proxy$`, 'm'));

    text = '';
    expect(await cacheCommand.run(['clear', 'npm'], context)).toBe(0);
    expect(text).toBe('Cleared npm\n');
    expect(existsSync(join(warrenHome, 'caches/npm'))).toBe(false);
    expect(existsSync(join(warrenHome, 'caches/pip/cache/wheel'))).toBe(true);
    await cacheCommand.run(['clear'], context);
    expect(existsSync(join(warrenHome, 'caches/pip'))).toBe(false);
    await expect(cacheCommand.run(['clear', 'maven'], context)).rejects.toThrow('Unknown cache "maven"');
    await expect(cacheCommand.run(['purge'], context)).rejects.toThrow('Unknown cache action "purge"');
  });
});
