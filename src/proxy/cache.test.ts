import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDownloadCache, type DownloadCache } from './cache.js';
import type { HookExchange } from './hooks.js';

const url = 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz';
const exchange: HookExchange = {
  sessionId: 's1',
  method: 'GET',
  url,
  scheme: 'https',
  host: 'registry.npmjs.org',
  port: 443,
  path: '/left-pad/-/left-pad-1.3.0.tgz',
  rawHeaders: ['Accept', '*/*'],
};
const upstream = {
  status: 200,
  rawHeaders: ['Content-Type', 'application/octet-stream', 'Content-Length', '6', 'Set-Cookie', 'x=1'],
};

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('download cache store', () => {
  let dir: string;
  let cache: DownloadCache;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warren-cache-unit-'));
    cache = createDownloadCache({ dir });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a complete 200 and answers the next request from disk with the kept headers', async () => {
    expect(await cache.hook.beforeForward!(exchange)).toEqual({ kind: 'continue' });
    const sink = cache.hook.onResponse!(exchange, upstream)!;
    sink.write(Buffer.from('abc'));
    sink.write(Buffer.from('def'));
    sink.end(true);
    await settle();
    expect(readFileSync(cache.entryPaths(url).body, 'utf8')).toBe('abcdef');
    const hit = await cache.hook.beforeForward!(exchange);
    expect(hit).toEqual({
      kind: 'answer',
      status: 200,
      statusText: 'OK',
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Content-Length', '6'],
        ['X-Warren-Cache', 'hit'],
      ],
      body: { file: cache.entryPaths(url).body },
      note: 'served from the proxy download cache (npm-tarball)',
    });
    expect(cache.stats()).toEqual({ hits: 1, stored: 1 });
  });

  it('keeps nothing from a cut, short, failed or personal download', async () => {
    const cut = cache.hook.onResponse!(exchange, upstream)!;
    cut.write(Buffer.from('abc'));
    cut.end(false);
    const short = cache.hook.onResponse!(exchange, upstream)!;
    short.write(Buffer.from('abc'));
    short.end(true); // Content-Length said 6
    expect(cache.hook.onResponse!(exchange, { status: 404, rawHeaders: [] })).toBeUndefined();
    expect(
      cache.hook.onResponse!({ ...exchange, rawHeaders: ['Authorization', 'Bearer x'] }, upstream),
    ).toBeUndefined();
    await settle();
    expect(await cache.hook.beforeForward!(exchange)).toEqual({ kind: 'continue' });
    expect(cache.stats()).toEqual({ hits: 0, stored: 0 });
  });

  it('treats a damaged entry as a miss rather than refusing the download', async () => {
    writeFileSync(cache.entryPaths(url).meta, '{not json');
    expect(await cache.hook.beforeForward!(exchange)).toEqual({ kind: 'continue' });
  });

  it('does not keep downloads above the size limit', async () => {
    const small = createDownloadCache({ dir, maxEntryBytes: 4 });
    expect(small.hook.onResponse!(exchange, upstream)).toBeUndefined(); // declared 6 bytes
    const undeclared = small.hook.onResponse!(exchange, { status: 200, rawHeaders: [] })!;
    undeclared.write(Buffer.from('abcdef'));
    undeclared.end(true);
    await settle();
    expect(small.stats().stored).toBe(0);
  });
});
