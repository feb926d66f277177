import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WarrenError } from '../errors/index.js';
import { parseGatewayConfig, pickGatewayKeys } from '../gateway/index.js';
import { flowsToHar } from '../proxy/index.js';
import { describeWriteStatus } from '../store/index.js';
import { CACHE_KINDS } from '../sandbox/index.js';
import {
  createSessionManager,
  defaultAgentPresets,
  limitSettingsOfConfig,
  mergeAgentPresets,
  prepareSession,
  type AgentPreset,
  type SessionManager,
} from '../sessions/index.js';
import { createWarrenApp } from './app.js';
import { createAuthService, type AuthService } from './auth/auth-service.js';
import { checkBind } from './bind.js';
import { parsePublicUrl } from './http/host-check.js';
import { DEFAULT_WEB_ROOT } from './http/static.js';
import { createEventHub, summarizeFlow } from './events.js';
import { isProcessAlive, openRuntime, type Runtime } from './runtime.js';

export interface ServeOptions {
  env: NodeJS.ProcessEnv;
  configPath?: string;
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  forceInsecureBind?: boolean;
  /** The address browsers use when it is not the bound one (`tailscale serve`, a reverse proxy). */
  publicUrl?: string;
  webRoot?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  /** Where it listens, e.g. http://127.0.0.1:7777/. */
  url: string;
  /** --public-url when given (with a trailing slash), else `url`: what links are printed with. */
  publicUrl: string;
  /** Present while no password is set: the one-time link (on publicUrl) where the operator chooses it. */
  setupUrl: string | undefined;
  runtime: Runtime;
  sessions: SessionManager;
  auth: AuthService;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** Compiles each preset's hosts once at start, so that a bad rule in `agents:` stops serve, not a session. */
function checkedPresets(presets: AgentPreset[], compile: (hosts: string[]) => unknown): AgentPreset[] {
  for (const preset of presets) {
    try {
      compile(preset.hosts);
    } catch (error) {
      throw new WarrenError('invalid-config', `agents.${preset.name}.hosts: ${(error as Error).message}`, {
        hint: 'each entry is a host, *.domain, IP or CIDR, with an optional :port',
        cause: error,
      });
    }
  }
  return presets;
}

/** Opens the runtime, marks leftover sessions ended, and serves the API and the web app. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  checkBind({
    host: options.host,
    tls: options.tls !== undefined,
    forceInsecureBind: options.forceInsecureBind ?? false,
  });
  const publicUrl = options.publicUrl !== undefined ? parsePublicUrl(options.publicUrl) : undefined;
  const tls = options.tls
    ? { cert: readFileSync(options.tls.certPath), key: readFileSync(options.tls.keyPath) }
    : undefined;
  const events = createEventHub();
  const runtime = await openRuntime({
    env: options.env,
    gatewayWarn: (line) => (options.log ?? ((text: string) => process.stderr.write(`${text}\n`)))(line),
    ...(options.configPath ? { configPath: options.configPath } : {}),
    onFlowRecorded: (flow) =>
      events.publish({ type: 'flow-recorded', sessionId: flow.sessionId, flow: summarizeFlow(flow) }),
    // A full disk is logged and shown in every open page (a banner), never thrown.
    onWriteStatus: (status) => {
      const message = describeWriteStatus(status);
      (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(`warren: ${message}`);
      events.publish({ type: 'store-status', status, message });
    },
  });
  let server: Server | undefined;
  try {
    const ended = runtime.store.sessions.endAllRunning(Date.now(), isProcessAlive);
    if (ended > 0) options.log?.(`warren: marked ${ended} session(s) from an earlier run as ended`);
    for (const warning of runtime.configWarnings) options.log?.(`warren: config: ${warning}`);
    const driver = await runtime.openDriver();
    const sessions = createSessionManager({
      store: runtime.store,
      sessionsDir: runtime.home.sessionsDir,
      prepare: (sessionOptions) =>
        prepareSession(runtime.sessionParts(driver), {
          caches: runtime.config.sandbox.caches,
          ...sessionOptions,
        }),
      onEvent: (event) => events.publish(event),
      onError: (sessionId, error) => options.log?.(`warren: ending session ${sessionId}: ${String(error)}`),
    });
    const unknownCaches = runtime.config.sandbox.caches.filter((kind) => !CACHE_KINDS.includes(kind));
    if (unknownCaches.length > 0) {
      throw new WarrenError('invalid-config', `sandbox.caches: unknown cache ${unknownCaches.join(', ')}`, {
        hint: `known caches: ${CACHE_KINDS.join(', ')}`,
      });
    }
    const presets = checkedPresets(mergeAgentPresets(defaultAgentPresets, runtime.config.agents), (hosts) =>
      runtime.policyWith({ allow: hosts }),
    );
    const auth = createAuthService({ auth: runtime.store.auth, secureCookies: tls !== undefined });
    // The names callers may ask for; `*` patterns are routes, not names to offer.
    const modelNames = parseGatewayConfig(
      pickGatewayKeys(runtime.config as unknown as Record<string, unknown>),
      options.env,
    )
      .models.map((model) => model.modelName)
      .filter((name) => !name.includes('*'));
    const app = createWarrenApp({
      store: runtime.store,
      sessions,
      auth,
      events,
      presets,
      policyFor: (extra) => runtime.policyWith(extra),
      configuredLimits: limitSettingsOfConfig(runtime.config.sandbox),
      defaultCaches: runtime.config.sandbox.caches,
      flowsToHar: (flows) => flowsToHar(flows),
      models: () => modelNames,
      usageFor: (sessionId) => ({
        byModel: runtime.store.usage.summarize('model', { sessionId }),
        recent: runtime.store.usage.list({ sessionId, limit: 20 }),
      }),
      forbiddenWorkspaceRoots: [runtime.home.root],
      webRoot: options.webRoot ?? DEFAULT_WEB_ROOT,
      secure: tls !== undefined,
      hosts: {
        bindAddress: options.host,
        names: [...runtime.config.serve.hosts, ...(publicUrl ? [publicUrl.hostname] : [])],
      },
      ...(options.log ? { log: options.log } : {}),
    });
    server = tls ? createHttpsServer(tls, app.handleRequest) : createHttpServer(app.handleRequest);
    server.on('upgrade', app.handleUpgrade);
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new WarrenError('conflict', `port ${options.port} on ${options.host} is already in use`, {
                hint: 'stop the other server or pass --port',
              })
            : error,
        ),
      );
      listening.listen(options.port, options.host, resolve);
    });
    const port = (listening.address() as AddressInfo).port;
    const url = `${tls ? 'https' : 'http'}://${urlHost(options.host)}:${port}/`;
    const linkBase = publicUrl?.href ?? url;
    const setupToken = auth.issueSetupToken();
    return {
      url,
      publicUrl: linkBase,
      setupUrl: setupToken ? `${linkBase}#/setup/${setupToken}` : undefined,
      runtime,
      sessions,
      auth,
      async close() {
        app.close();
        await new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        });
        await sessions.closeAll();
        await runtime.close();
      },
    };
  } catch (error) {
    server?.close();
    await runtime.close();
    throw error;
  }
}
