import { posix } from 'node:path';
import { WarrenError } from '../errors/index.js';
import { SANDBOX_PATHS } from './constants.js';
import type { NormalizedSandboxSpec } from './spec.js';

/**
 * Shared package caches, opt-in per session (`caches: ['npm', 'pip']`). Each lives in WARREN_HOME/caches/<kind>
 * and is mounted read-write into every session that asks for it, so a second install of the same packages is
 * served from disk.
 *
 * Only download caches are shared, never folders that hold code run later by other sessions: cargo's and
 * gradle's homes are per-session (in HOME), with only their registry/download subfolders shared (a shared
 * ~/.cargo/bin or ~/.gradle/init.d would let one session plant commands in the next). Even so, sessions that
 * share a cache can influence each other through it: share caches only between sessions that trust each other.
 */
export interface CacheDefinition {
  kind: string;
  /** Subfolders of WARREN_HOME/caches/<kind> and where each is mounted inside. */
  folders: { name: string; target: string }[];
  /** Variables that point the tool at those folders. */
  environment: Record<string, string>;
  explain: string;
}

const SHARED = '/var/cache/warren';

export const CACHE_DEFINITIONS: readonly CacheDefinition[] = [
  {
    kind: 'npm',
    folders: [{ name: 'cacache', target: `${SHARED}/npm` }],
    environment: { npm_config_cache: `${SHARED}/npm` },
    explain: 'npm tarballs and metadata (npm_config_cache)',
  },
  {
    kind: 'pip',
    folders: [{ name: 'cache', target: `${SHARED}/pip` }],
    environment: { PIP_CACHE_DIR: `${SHARED}/pip` },
    explain: 'pip wheels and downloads (PIP_CACHE_DIR)',
  },
  {
    kind: 'cargo',
    folders: [
      { name: 'registry', target: `${SANDBOX_PATHS.home}/.cargo/registry` },
      { name: 'git', target: `${SANDBOX_PATHS.home}/.cargo/git` },
    ],
    environment: { CARGO_HOME: `${SANDBOX_PATHS.home}/.cargo` },
    explain: 'crates and git dependencies (CARGO_HOME/registry and /git; CARGO_HOME/bin stays per session)',
  },
  {
    kind: 'go',
    folders: [
      { name: 'mod', target: `${SHARED}/go/mod` },
      { name: 'build', target: `${SHARED}/go/build` },
    ],
    environment: { GOMODCACHE: `${SHARED}/go/mod`, GOCACHE: `${SHARED}/go/build` },
    explain: 'Go modules and build cache (GOMODCACHE, GOCACHE)',
  },
  {
    kind: 'gradle',
    folders: [
      { name: 'caches', target: `${SANDBOX_PATHS.home}/.gradle/caches` },
      { name: 'wrapper', target: `${SANDBOX_PATHS.home}/.gradle/wrapper` },
    ],
    environment: { GRADLE_USER_HOME: `${SANDBOX_PATHS.home}/.gradle` },
    explain:
      'Gradle dependencies and wrapper distributions (GRADLE_USER_HOME/caches and /wrapper; init.d stays per session)',
  },
  {
    kind: 'apt',
    folders: [{ name: 'archives', target: '/var/cache/apt/archives' }],
    environment: {},
    explain: 'Debian package files (/var/cache/apt/archives), for images where the agent may run apt-get',
  },
];

export const CACHE_KINDS = CACHE_DEFINITIONS.map((definition) => definition.kind);

/** One host folder mounted read-write inside. */
export interface CacheMount {
  kind: string;
  source: string;
  target: string;
}

/** Mounts and variables for the caches a spec asks for. Pure; refuses unknown kinds with the known ones. */
export function resolveCaches(
  kinds: readonly string[],
  cachesDir: string | undefined,
): { mounts: CacheMount[]; environment: Record<string, string> } {
  if (kinds.length === 0) return { mounts: [], environment: {} };
  const unknown = kinds.filter((kind) => !CACHE_KINDS.includes(kind));
  if (unknown.length > 0)
    throw new WarrenError(
      'invalid-argument',
      `Unknown cache ${unknown.map((kind) => `"${kind}"`).join(', ')}`,
      {
        hint: `Known caches: ${CACHE_KINDS.join(', ')}.`,
      },
    );
  if (!cachesDir)
    throw new WarrenError(
      'invalid-argument',
      'This driver was not given a caches folder, so caches cannot be shared',
      {
        hint: 'Pass cachesDir (WARREN_HOME/caches) in the driver options.',
      },
    );
  const mounts: CacheMount[] = [];
  const environment: Record<string, string> = {};
  for (const definition of CACHE_DEFINITIONS) {
    if (!kinds.includes(definition.kind)) continue;
    for (const folder of definition.folders)
      mounts.push({
        kind: definition.kind,
        source: posix.join(cachesDir, definition.kind, folder.name),
        target: folder.target,
      });
    Object.assign(environment, definition.environment);
  }
  return { mounts, environment };
}

/**
 * The spec with the caches turned into read-write mounts and variables, for drivers that mount `spec.mounts`
 * as they are (bwrap). The spec's own variables win over the cache's.
 */
export function withCacheMounts(
  spec: NormalizedSandboxSpec,
  caches: { mounts: CacheMount[]; environment: Record<string, string> },
): NormalizedSandboxSpec {
  if (caches.mounts.length === 0) return spec;
  return {
    ...spec,
    mounts: [
      ...spec.mounts,
      ...caches.mounts.map((mount) => ({ source: mount.source, target: mount.target, readonly: false })),
    ],
    env: { ...caches.environment, ...spec.env },
  };
}
