import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { loadConfig, openHome, type RuleEntry, type WarrenConfig, type WarrenHome } from '../config/index.js';
import {
  compilePolicy,
  createCertificateAuthority,
  createEgressProxy,
  type CertificateAuthority,
  type EgressProxy,
  type HostPolicy,
  type HostRule,
} from '../proxy/index.js';
import { openStore, type Store } from '../store/index.js';

/** The long-lived parts that `warren run`, `warren proxy` and `warren serve` share in one process. */
export interface Runtime {
  home: WarrenHome;
  config: WarrenConfig;
  store: Store;
  ca: CertificateAuthority;
  /** System roots + Warren's CA: what sandboxes trust. */
  caBundlePath: string;
  proxy: EgressProxy;
  /** The config's rules followed by the given command-line ones. */
  policyWith(extra: { allow?: string[]; deny?: string[] }): HostPolicy;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env: NodeJS.ProcessEnv;
  configPath?: string;
}

function rulesOf(entries: RuleEntry[], action: HostRule['action']): HostRule[] {
  return entries.map((entry) =>
    typeof entry === 'string'
      ? { action, pattern: entry }
      : { action, pattern: entry.rule, ...(entry.reason ? { reason: entry.reason } : {}) },
  );
}

/** Writes the trust bundle sandboxes get; rewritten at each start so a renewed CA is picked up. */
function writeCaBundle(home: WarrenHome, ca: CertificateAuthority): string {
  const path = join(home.caDir, 'bundle.pem');
  writeFileSync(path, `${rootCertificates.join('\n')}\n${ca.certificatePem.trim()}\n`, { mode: 0o644 });
  return path;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const home = openHome(options.env);
  const config = loadConfig(options.configPath ?? home.configPath, { explicit: options.configPath !== undefined });
  const store = openStore(home.databasePath);
  try {
    const ca = await createCertificateAuthority({ dir: home.caDir });
    const caBundlePath = writeCaBundle(home, ca);
    const proxy = createEgressProxy({ ca, sink: store.flows, bodyCapBytes: config.proxy.bodyCapBytes });
    return {
      home,
      config,
      store,
      ca,
      caBundlePath,
      proxy,
      policyWith(extra) {
        return compilePolicy([
          ...rulesOf(config.policy.allow, 'allow'),
          ...rulesOf(config.policy.deny, 'deny'),
          ...(extra.allow ?? []).map((pattern): HostRule => ({ action: 'allow', pattern })),
          ...(extra.deny ?? []).map((pattern): HostRule => ({ action: 'deny', pattern })),
        ]);
      },
      async close() {
        await proxy.close();
        store.close();
      },
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
