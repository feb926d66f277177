import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../errors/index.js';
import { normalizeSandboxSpec, type SandboxSpec } from './spec.js';

const base: SandboxSpec = { sessionId: 's1', workspace: '/srv/work', command: ['bash'] };

function refusal(spec: SandboxSpec): string {
  try {
    normalizeSandboxSpec(spec);
  } catch (error) {
    if (isWarrenError(error) && error.code === 'invalid-argument') return error.message;
    throw error;
  }
  throw new Error('expected the spec to be refused');
}

describe('normalizeSandboxSpec', () => {
  it('fills every default and says what absent means', () => {
    expect(normalizeSandboxSpec(base)).toEqual({
      sessionId: 's1',
      workspace: '/srv/work',
      mounts: [],
      env: {},
      proxy: undefined,
      caBundlePath: undefined,
      gatewayToken: undefined,
      limits: {},
      defaultedLimits: [],
      gpu: false,
      caches: [],
      nestedContainers: false,
      protectedPaths: true,
      tty: false,
      command: ['bash'],
      hostname: 'warren',
    });
    expect(normalizeSandboxSpec({ ...base, proxy: { socketPath: '/run/p.sock' } }).proxy).toEqual({
      socketPath: '/run/p.sock',
      port: 3128,
    });
  });

  it('takes protected paths relative to the workspace only', () => {
    expect(normalizeSandboxSpec({ ...base, protectedPaths: false }).protectedPaths).toBe(false);
    expect(
      normalizeSandboxSpec({ ...base, protectedPaths: { add: ['tools/hooks'], remove: ['.vscode'] } })
        .protectedPaths,
    ).toEqual({ add: ['tools/hooks'], remove: ['.vscode'] });
    for (const path of ['/etc/passwd', '../outside', 'a/../b', './a', ''])
      expect(refusal({ ...base, protectedPaths: { add: [path] } }), path).toContain(
        'protectedPaths.add.0: must be a path relative to the workspace',
      );
  });

  it('refuses relative and unnormalized paths', () => {
    expect(refusal({ ...base, workspace: 'work' })).toContain('workspace: must be an absolute path');
    expect(refusal({ ...base, workspace: '/srv/../etc' })).toContain('workspace: must be a normalized path');
    expect(refusal({ ...base, caBundlePath: '/a//b' })).toContain('caBundlePath: must be a normalized path');
  });

  it('refuses mounts over the sandbox plumbing but allows them inside the workspace', () => {
    for (const target of [
      '/',
      '/proc',
      '/proc/1',
      '/dev',
      '/run/warren/proxy.sock',
      '/etc/warren',
      '/workspace',
    ])
      expect(refusal({ ...base, mounts: [{ source: '/srv/x', target, readonly: true }] })).toContain(
        'mounts.0.target',
      );
    const spec = normalizeSandboxSpec({
      ...base,
      mounts: [{ source: '/srv/cache', target: '/workspace/.cache', readonly: false }],
    });
    expect(spec.mounts).toHaveLength(1);
  });

  it('refuses env that would override the contract', () => {
    const message = refusal({ ...base, env: { HTTPS_PROXY: 'http://evil:1', IS_SANDBOX: '0', FOO: 'bar' } });
    expect(message).toContain('env.HTTPS_PROXY: HTTPS_PROXY belongs to the sandbox contract');
    expect(message).toContain('env.IS_SANDBOX');
    expect(message).not.toContain('FOO');
    expect(
      normalizeSandboxSpec({ ...base, env: { TERM: 'screen', PATH: '/opt/bin:/usr/bin' } }).env.TERM,
    ).toBe('screen');
  });

  it('refuses bad identifiers, empty commands and too small limits', () => {
    expect(refusal({ ...base, sessionId: '../x' })).toContain('sessionId');
    expect(refusal({ ...base, command: [] })).toContain('command: must name a program');
    expect(refusal({ ...base, hostname: 'a b' })).toContain('hostname');
    expect(refusal({ ...base, limits: { pids: 2 } })).toContain('limits.pids');
    expect(refusal({ ...base, limits: { memoryBytes: 1024 } })).toContain('limits.memoryBytes');
    expect(refusal({ ...base, proxy: { socketPath: '/p', port: 70000 } })).toContain('proxy.port');
    expect(refusal({ ...base, limits: { tmpBytes: 4096 } })).toContain(
      'limits.tmpBytes: must be at least 1 MiB',
    );
    expect(refusal({ ...base, defaultLimits: { shmBytes: 0 } })).toContain('defaultLimits.shmBytes');
  });

  it('fills the limits a spec leaves out from defaultLimits, and names those as defaulted', () => {
    const spec = normalizeSandboxSpec({
      ...base,
      limits: { memoryBytes: 64 * 1024 * 1024, cpuSeconds: 10 },
      defaultLimits: { memoryBytes: 1024 ** 3, pids: 4096, tmpBytes: 1024 ** 3 },
    });
    expect(spec.limits).toEqual({
      memoryBytes: 64 * 1024 * 1024,
      cpuSeconds: 10,
      pids: 4096,
      tmpBytes: 1024 ** 3,
    });
    // The explicit memory limit stays explicit (fail closed); only what came from the defaults is best effort.
    expect(spec.defaultedLimits).toEqual(['pids', 'tmpBytes']);
  });
});
