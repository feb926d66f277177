import { access, constants, lstat, readlink } from 'node:fs/promises';
import type { RootEntry } from './args.js';
import { SAFE_ETC_ENTRIES } from './etc-files.js';

/** Top-level folders that hold programs or libraries on Debian-like and other distributions. */
const ROOT_PROGRAM_FOLDERS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The first executable among `candidates`, else undefined. */
export async function findExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate;
  return undefined;
}

export async function readRootEntries(): Promise<RootEntry[]> {
  const entries: RootEntry[] = [];
  for (const path of ROOT_PROGRAM_FOLDERS) {
    const stats = await lstat(path).catch(() => undefined);
    if (!stats) continue;
    if (stats.isSymbolicLink()) {
      const target = await readlink(path);
      // Recreate links into /usr (merged /usr); anything else is bound as the folder it points to.
      if (/^\/?usr\//.test(target)) entries.push({ path, kind: 'symlink', target });
      else entries.push({ path, kind: 'directory' });
    } else if (stats.isDirectory()) entries.push({ path, kind: 'directory' });
  }
  return entries;
}

export async function readSafeEtcEntries(): Promise<string[]> {
  const present: string[] = [];
  for (const entry of SAFE_ETC_ENTRIES) if (await exists(entry.path)) present.push(entry.path);
  return present;
}

/** bwrap and socat where Debian and most distributions put them; socat must lie under /usr to be seen inside. */
export const BWRAP_CANDIDATES = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];
export const SOCAT_CANDIDATES = ['/usr/bin/socat', '/usr/local/bin/socat'];

/** Where Debian-like systems keep the default CA bundle that OpenSSL, GnuTLS and most tools read. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The system CA bundle path when /etc/ssl/certs is bound and holds it as a regular file, else undefined. */
export async function readSystemCaBundle(etcEntries: string[]): Promise<string | undefined> {
  if (!etcEntries.includes('/etc/ssl/certs')) return undefined;
  const stats = await lstat(SYSTEM_CA_BUNDLE).catch(() => undefined);
  return stats?.isFile() ? SYSTEM_CA_BUNDLE : undefined;
}
