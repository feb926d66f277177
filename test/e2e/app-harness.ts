import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostPolicy } from '../../src/proxy/index.js';
import { createAuthService, type AuthService } from '../../src/server/auth/auth-service.js';
import { createWarrenApp } from '../../src/server/app.js';
import { createEventHub, type EventHub } from '../../src/server/events.js';
import { DEFAULT_WEB_ROOT } from '../../src/server/http/static.js';
import {
  createSessionManager,
  defaultAgentPresets,
  newSessionId,
  type SessionManager,
  type SessionOptions,
} from '../../src/sessions/index.js';
import { openStore, type Store } from '../../src/store/index.js';

/** A policy object for tests that never reach the proxy: it explains itself and allows nothing. */
const inertPolicy = { explain: () => [] } as unknown as HostPolicy;

/**
 * The web app on a real HTTP server with a real store, auth and session manager, but sessions
 * launched WITHOUT a sandbox or proxy (a plain /bin/sh in a PTY): for tests of the API, auth and
 * terminal sockets only. Sandboxed sessions are tested through `startServer` in test/e2e.
 */
export interface AppHarness {
  url: string;
  origin: string;
  store: Store;
  auth: AuthService;
  events: EventHub;
  sessions: SessionManager;
  folder: string;
  /** What the app logged (refusals, failures). */
  logs: string[];
  close(): Promise<void>;
}

export async function startAppHarness(
  options: {
    loginAttempts?: { attempts: number; windowMs: number };
    /** How long a login lasts (default 30 days). */
    loginLifetimeMs?: number;
    /** `serve.hosts`: names answered besides loopback and 127.0.0.1. */
    hostNames?: string[];
    /** How often open sockets' logins are re-read from the store (default 500 ms). */
    loginCheckIntervalMs?: number;
  } = {},
): Promise<AppHarness> {
  const folder = mkdtempSync(join(tmpdir(), 'warren-app-'));
  const logs: string[] = [];
  const store = openStore(':memory:');
  const events = createEventHub();
  const auth = createAuthService({
    auth: store.auth,
    secureCookies: false,
    ...(options.loginAttempts ? { loginAttempts: options.loginAttempts } : {}),
    ...(options.loginLifetimeMs !== undefined ? { loginLifetimeMs: options.loginLifetimeMs } : {}),
  });
  const sessions = createSessionManager({
    store,
    sessionsDir: folder,
    stopGraceMs: 1000,
    onEvent: (event) => events.publish(event),
    async prepare(sessionOptions: SessionOptions) {
      const id = sessionOptions.id ?? newSessionId();
      store.sessions.create({
        id,
        createdAt: Date.now(),
        kind: sessionOptions.kind,
        command: sessionOptions.command,
        workspace: sessionOptions.workspace,
        driver: 'none (test)',
        details: { ...sessionOptions.details },
        state: 'running',
      });
      return {
        id,
        plan: {
          // Like a sandbox's /workspace: the command starts in the workspace folder.
          file: '/bin/sh',
          args: ['-c', 'cd "$0" && exec "$@"', sessionOptions.workspace, ...sessionOptions.command],
          env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color', HOME: sessionOptions.workspace },
          limits: [],
          cleanup: async () => {},
        },
        setPolicy() {
          // No proxy in this harness: policy changes are tested end to end with the real one.
        },
        async finish(exit) {
          store.sessions.update(id, {
            state: 'error' in exit ? 'failed' : 'ended',
            endedAt: Date.now(),
            ...('error' in exit ? {} : { exitCode: exit.code ?? -1 }),
          });
        },
      };
    },
  });
  const app = createWarrenApp({
    store,
    sessions,
    auth,
    events,
    presets: [
      ...defaultAgentPresets.filter((preset) => preset.name !== 'shell'),
      { name: 'shell', title: 'Shell', command: ['/bin/sh'], env: {}, hosts: [] },
    ],
    policyFor: () => inertPolicy,
    configuredLimits: {},
    flowsToHar: (flows) => ({ log: { version: '1.2', entries: flows.map((flow) => ({ url: flow.url })) } }),
    forbiddenWorkspaceRoots: [folder],
    webRoot: DEFAULT_WEB_ROOT,
    secure: false,
    hosts: { bindAddress: '127.0.0.1', names: options.hostNames ?? [] },
    log: (line) => logs.push(line),
    ...(options.loginCheckIntervalMs !== undefined
      ? { loginCheckIntervalMs: options.loginCheckIntervalMs }
      : {}),
  });
  const server: Server = createServer(app.handleRequest);
  server.on('upgrade', app.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    store,
    auth,
    events,
    sessions,
    folder,
    logs,
    async close() {
      app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sessions.closeAll();
      store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Sets the password through the setup token and returns the cookie and CSRF token of that login. */
export async function setUpAndLogIn(
  harness: AppHarness,
  password = 'correct horse battery',
): Promise<{ cookie: string; csrf: string }> {
  const token = harness.auth.issueSetupToken() as string;
  const response = await fetch(`${harness.url}/api/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: harness.origin },
    body: JSON.stringify({ token, password }),
  });
  if (response.status !== 200) throw new Error(`setup failed: ${response.status} ${await response.text()}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const body = (await response.json()) as { csrfToken: string };
  return { cookie, csrf: body.csrfToken };
}
