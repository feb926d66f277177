import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createEgressProxy,
  policyFromArguments,
  type EgressProxy,
  type FlowRecord,
  type ForwardHook,
} from '../../src/proxy/index.js';
import { runSandboxed, type SandboxDriver, type SandboxRunResult } from '../../src/sandbox/index.js';

/** A real egress proxy whose sessions each get a unix socket listener, and an npm install run in a sandbox. */
export interface NpmSessionRig {
  root: string;
  proxy: EgressProxy;
  flows: FlowRecord[];
  /** One fresh session (new listener, new workspace, empty HOME) running `npm install` of `dependencies`. */
  install(
    sessionId: string,
    dependencies: string[],
  ): Promise<SandboxRunResult & { workspace: string; ms: number }>;
  close(): Promise<void>;
}

export async function createNpmSessionRig(options: {
  driver: SandboxDriver;
  registryUrl: string;
  registryHost: string;
  hooks: ForwardHook[];
}): Promise<NpmSessionRig> {
  const root = mkdtempSync(join(tmpdir(), 'warren-npm-rig-'));
  const ca = await createCertificateAuthority({ dir: join(root, 'ca') });
  const flows: FlowRecord[] = [];
  const proxy = createEgressProxy({
    ca,
    sink: { record: (flow) => flows.push(flow) },
    lookup: async (hostname) => {
      if (hostname === options.registryHost) return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    },
  });
  return {
    root,
    proxy,
    flows,
    async install(sessionId, dependencies) {
      const workspace = join(root, sessionId);
      mkdirSync(workspace);
      writeFileSync(
        join(workspace, 'package.json'),
        JSON.stringify({
          name: 'rig',
          version: '1.0.0',
          private: true,
          dependencies: Object.fromEntries(dependencies.map((name) => [name, '1.0.0'])),
        }),
      );
      const socketPath = join(root, `${sessionId}.sock`);
      const listener = await proxy.listen(
        { path: socketPath },
        {
          id: sessionId,
          policy: policyFromArguments({ allow: [options.registryHost], deny: [] }),
          hooks: options.hooks,
        },
      );
      const started = performance.now();
      try {
        const result = await runSandboxed(
          options.driver,
          {
            sessionId,
            workspace,
            proxy: { socketPath },
            env: { npm_config_registry: options.registryUrl, npm_config_update_notifier: 'false' },
            command: [
              'npm',
              'install',
              '--no-audit',
              '--no-fund',
              '--no-package-lock',
              '--loglevel=error',
              '--fetch-retries=1',
              '--fetch-timeout=30000',
            ],
          },
          { timeoutMs: 90_000 },
        );
        return { ...result, workspace, ms: performance.now() - started };
      } finally {
        await listener.close();
      }
    },
    async close() {
      await proxy.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
