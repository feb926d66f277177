import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { loadConfig, openHome, type RuleEntry, type WarrenConfig, type WarrenHome } from '../config/index.js';
import {
  compilePolicy,
  createCertificateAuthority,
  createDownloadCache,
  createEgressProxy,
  createSecretSwap,
  loadSecretValues,
  type CertificateAuthority,
  type ForwardHook,
  type EgressProxy,
  type FlowRecord,
  type HostPolicy,
  type HostRule,
} from '../proxy/index.js';
import {
  createGateway,
  createStoredTokenVerifier,
  parseGatewayConfig,
  pickGatewayKeys,
  type Gateway,
} from '../gateway/index.js';
import { resolveDriver, type DriverOptions, type SandboxDriver } from '../sandbox/index.js';
import {
  reclaimRunFolders,
  type SessionEgress,
  type SessionParts,
  type SessionTokenIssuer,
} from '../sessions/index.js';
import { openStore, type Store, type WriterStatus } from '../store/index.js';

/** The long-lived parts that `warren run`, `warren proxy` and `warren serve` share in one process. */
export interface Runtime {
  home: WarrenHome;
  config: WarrenConfig;
  store: Store;
  ca: CertificateAuthority;
  /** System roots + Warren's CA: what sandboxes trust. */
  caBundlePath: string;
  proxy: EgressProxy;
  /** The model gateway, served to sandboxes in process through the proxy (origin-form requests). */
  gateway: Gateway;
  /**
   * The driver named (else the configured one), checked to be usable here, after removing what
   * crashed earlier sessions left behind (containers of sessions still running elsewhere are kept).
   */
  openDriver(name?: string): Promise<SandboxDriver>;
  /** Everything `prepareSession` needs from this runtime, for sessions run by `driver`. */
  sessionParts(driver: SandboxDriver): SessionParts;
  /** Whether a session still runs in some Warren process (this one or a concurrent `warren run`). */
  isSessionLive(sessionId: string): boolean;
  /** What `resolveDriver` needs from the home and config (image, caches folder). */
  driverOptions: DriverOptions;
  /** Per session: the secret placeholders for its environment and the proxy hooks (cache, secret swap). */
  sessionEgress(): SessionEgress;
  /** Config keys kept but not acted on, and similar notes worth a line on stderr at start. */
  configWarnings: string[];
  /** Per-session gateway tokens: what sandboxes hold instead of provider keys. */
  sessionTokens: SessionTokenIssuer;
  /** The config's rules followed by the given command-line ones. */
  policyWith(extra: { allow?: string[]; deny?: string[] }): HostPolicy;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env: NodeJS.ProcessEnv;
  configPath?: string;
  /** Hears every flow as the proxy records it (live views in `warren serve`). */
  onFlowRecorded?: (flow: FlowRecord) => void;
  /** Told when the disk refuses flows or usage and when it takes them again (StoreOptions); absent: stderr. */
  onWriteStatus?: (status: WriterStatus) => void;
  /** The gateway's warnings (another vendor's identity sent to a model), for a server log; absent: none. */
  gatewayWarn?: (line: string) => void;
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

/** Whether a process still runs (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const home = openHome(options.env);
  const config = loadConfig(options.configPath ?? home.configPath, {
    explicit: options.configPath !== undefined,
  });
  const store = openStore(home.databasePath, {
    ...(options.onFlowRecorded ? { onFlowRecorded: options.onFlowRecorded } : {}),
    ...(options.onWriteStatus ? { onWriteStatus: options.onWriteStatus } : {}),
  });
  try {
    const ca = await createCertificateAuthority({ dir: home.caDir });
    const caBundlePath = writeCaBundle(home, ca);
    // warren.yaml carries LiteLLM's keys (model_list, general_settings…) as is.
    const gatewayConfig = parseGatewayConfig(
      pickGatewayKeys(config as unknown as Record<string, unknown>),
      options.env,
      options.configPath ?? home.configPath,
    );
    const gateway = createGateway({
      config: gatewayConfig,
      tokens: createStoredTokenVerifier(store.tokens),
      usage: store.usage,
      ...(options.gatewayWarn ? { warn: options.gatewayWarn } : {}),
    });
    // Secrets are read once, at start: a missing value stops Warren here rather than mid-session.
    const secrets = await loadSecretValues(config.secrets, options.env);
    const downloadCache = config.proxy.downloadCache
      ? createDownloadCache({ dir: join(home.cachesDir, 'proxy') })
      : undefined;
    const proxy = createEgressProxy({
      ca,
      sink: store.flows,
      bodyCapBytes: config.proxy.bodyCapBytes,
      headerCapBytes: config.proxy.headerCapBytes,
      recordingBudgetBytes: config.proxy.recordingBudgetBytes,
      gateway: gateway.handler,
    });
    const runtime: Runtime = {
      home,
      config,
      store,
      ca,
      caBundlePath,
      proxy,
      gateway,
      async openDriver(name) {
        const driver = await resolveDriver(name ?? config.sandbox.driver, runtime.driverOptions);
        await driver.reconcileLeftovers?.((id) => runtime.isSessionLive(id));
        // Each session's proxy socket folder: a session that is not alive has no use for it.
        reclaimRunFolders(home.runDir, (id) => runtime.isSessionLive(id));
        return driver;
      },
      sessionParts(driver) {
        return {
          store,
          proxy,
          driver,
          caBundlePath,
          runDir: home.runDir,
          tokens: runtime.sessionTokens,
          egress: () => runtime.sessionEgress(),
          ...(config.sandbox.protectedPaths !== undefined
            ? { protectedPaths: config.sandbox.protectedPaths }
            : {}),
        };
      },
      isSessionLive(sessionId) {
        const row = store.sessions.get(sessionId);
        if (!row || (row.state !== 'running' && row.state !== 'starting')) return false;
        const owner = row.details.ownerPid;
        return typeof owner === 'number' && isProcessAlive(owner);
      },
      driverOptions: {
        bwrap: { cachesDir: home.cachesDir, handoverDir: join(home.runDir, 'handover'), owner: home.root },
        oci: {
          cachesDir: home.cachesDir,
          handoverDir: join(home.runDir, 'handover'),
          ...(config.sandbox.image ? { image: config.sandbox.image } : {}),
        },
      },
      sessionEgress() {
        const hooks: ForwardHook[] = downloadCache ? [downloadCache.hook] : [];
        if (secrets.length === 0) return { environment: {}, hooks };
        const swap = createSecretSwap(secrets);
        return { environment: swap.environment, hooks: [...hooks, swap.hook] };
      },
      // Without a model_list the gateway's "model_list is empty" note says nothing the user asked about.
      configWarnings: config.model_list === undefined ? [] : gatewayConfig.warnings,
      sessionTokens: {
        issue: (sessionId) => gateway.issueSessionToken(sessionId),
        revoke: (sessionId) => void gateway.revokeSessionToken(sessionId),
      },
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
        await gateway.close();
        store.close();
      },
    };
    return runtime;
  } catch (error) {
    store.close();
    throw error;
  }
}
