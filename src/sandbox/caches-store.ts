import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WarrenError } from '../errors/index.js';
import { CACHE_DEFINITIONS, CACHE_KINDS, type CacheMount } from './caches.js';

/** Creates the host folders of the mounts (mode 0700 under WARREN_HOME/caches) before a session starts. */
export async function prepareCacheFolders(mounts: readonly CacheMount[]): Promise<void> {
  for (const mount of mounts) await mkdir(mount.source, { recursive: true, mode: 0o700 });
}

/** Bytes and files under a folder, not following symbolic links; a missing folder is empty. */
async function measure(path: string): Promise<{ bytes: number; files: number }> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return { bytes: 0, files: 0 };
  if (!stats.isDirectory()) return { bytes: stats.size, files: 1 };
  let bytes = 0;
  let files = 0;
  for (const name of await readdir(path)) {
    const inner = await measure(join(path, name));
    bytes += inner.bytes;
    files += inner.files;
  }
  return { bytes, files };
}

export interface CacheUsage {
  kind: string;
  path: string;
  bytes: number;
  files: number;
  explain: string;
}

/** The egress proxy's download cache (src/proxy/cache.ts) lives beside the session caches. */
export const PROXY_DOWNLOAD_CACHE = {
  kind: 'proxy',
  explain: 'immutable registry downloads kept by the egress proxy for every session',
};

const KNOWN_KINDS = [...CACHE_KINDS, PROXY_DOWNLOAD_CACHE.kind];

export async function listCaches(cachesDir: string): Promise<CacheUsage[]> {
  const explained = [
    ...CACHE_DEFINITIONS.map((definition) => ({ kind: definition.kind, explain: definition.explain })),
    PROXY_DOWNLOAD_CACHE,
  ];
  const usage: CacheUsage[] = [];
  for (const { kind, explain } of explained) {
    const path = join(cachesDir, kind);
    usage.push({ kind, path, ...(await measure(path)), explain });
  }
  return usage;
}

/** Empties the named caches (all when `kinds` is empty); the folders are made again on next use. */
export async function clearCaches(cachesDir: string, kinds: readonly string[]): Promise<string[]> {
  const unknown = kinds.filter((kind) => !KNOWN_KINDS.includes(kind));
  if (unknown.length > 0)
    throw new WarrenError(
      'invalid-argument',
      `Unknown cache ${unknown.map((kind) => `"${kind}"`).join(', ')}`,
      {
        hint: `Known caches: ${KNOWN_KINDS.join(', ')}.`,
      },
    );
  const chosen = kinds.length > 0 ? [...kinds] : KNOWN_KINDS;
  for (const kind of chosen) await rm(join(cachesDir, kind), { recursive: true, force: true });
  return chosen;
}
