import { describe, expect, it } from 'vitest';
import { CACHE_KINDS, resolveCaches, withCacheMounts } from './caches.js';
import { normalizeSandboxSpec } from './spec.js';

describe('shared caches', () => {
  it('knows npm, pip, cargo, go, gradle and apt', () => {
    expect(CACHE_KINDS).toEqual(['npm', 'pip', 'cargo', 'go', 'gradle', 'apt']);
  });

  it('mounts each asked-for cache from WARREN_HOME/caches with its variables', () => {
    const { mounts, environment } = resolveCaches(
      ['npm', 'go', 'cargo', 'pip', 'gradle', 'apt'],
      '/home/w/caches',
    );
    expect(mounts.map((mount) => `${mount.source} -> ${mount.target}`)).toEqual([
      '/home/w/caches/npm/cacache -> /var/cache/warren/npm',
      '/home/w/caches/pip/cache -> /var/cache/warren/pip',
      '/home/w/caches/cargo/registry -> /home/agent/.cargo/registry',
      '/home/w/caches/cargo/git -> /home/agent/.cargo/git',
      '/home/w/caches/go/mod -> /var/cache/warren/go/mod',
      '/home/w/caches/go/build -> /var/cache/warren/go/build',
      '/home/w/caches/gradle/caches -> /home/agent/.gradle/caches',
      '/home/w/caches/gradle/wrapper -> /home/agent/.gradle/wrapper',
      '/home/w/caches/apt/archives -> /var/cache/apt/archives',
    ]);
    expect(environment).toEqual({
      npm_config_cache: '/var/cache/warren/npm',
      PIP_CACHE_DIR: '/var/cache/warren/pip',
      CARGO_HOME: '/home/agent/.cargo',
      GOMODCACHE: '/var/cache/warren/go/mod',
      GOCACHE: '/var/cache/warren/go/build',
      GRADLE_USER_HOME: '/home/agent/.gradle',
    });
  });

  it('never shares folders that hold code run later (cargo bin, gradle init.d)', () => {
    const targets = resolveCaches(CACHE_KINDS, '/c').mounts.map((mount) => mount.target);
    expect(targets.some((target) => /\.cargo\/bin|\.cargo$|\.gradle$|init\.d/.test(target))).toBe(false);
  });

  it('refuses unknown kinds and a driver without a caches folder; nothing asked, nothing mounted', () => {
    expect(() => resolveCaches(['npm', 'maven'], '/c')).toThrow('Unknown cache "maven"');
    expect(() => resolveCaches(['npm'], undefined)).toThrow(/not given a caches folder/);
    expect(resolveCaches([], undefined)).toEqual({ mounts: [], environment: {} });
  });

  it("adds the caches to a spec as read-write mounts; the spec's own variables win", () => {
    const spec = normalizeSandboxSpec({
      sessionId: 's',
      workspace: '/w',
      command: ['true'],
      caches: ['npm'],
      env: { npm_config_cache: '/elsewhere' },
    });
    const withCaches = withCacheMounts(spec, resolveCaches(spec.caches, '/c'));
    expect(withCaches.mounts).toEqual([
      { source: '/c/npm/cacache', target: '/var/cache/warren/npm', readonly: false },
    ]);
    expect(withCaches.env.npm_config_cache).toBe('/elsewhere');
  });
});
