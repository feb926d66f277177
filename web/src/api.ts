/** The server's JSON API (docs/api.md) as typed functions. Errors arrive as ApiError. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface Me {
  user: string;
  loginId: string;
  csrfToken: string;
}

export interface LoginView {
  id: string;
  current: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  userAgent: string;
  address: string;
}

export interface SessionView {
  id: string;
  state: 'starting' | 'running' | 'ended' | 'failed';
  agent: string;
  command: string[];
  model: string | null;
  createdAt: number;
  endedAt: number | null;
  exitCode: number | null;
  workspace: string;
  flowCount: number;
  viewers: number;
  attachable: boolean;
  gpu: boolean;
  nestedContainers: boolean;
  caches: string[];
  /** How each limit is enforced, e.g. { limit: 'pids', value: 4096, mechanism: 'cgroup v1 pids at …' }. */
  limits: { limit: string; value: number; mechanism: string }[];
  /** What the proxy's recording limits left out of this session's flows (docs/proxy.md, "Recording limits"). */
  recording: { flows: number; storedBytes: number; metadataOnly: number; droppedBytes: number };
  /** Default limits the server could not enforce for this session (no writable cgroup), with why. */
  unenforcedLimits: { limit: string; value: number; reason: string }[];
  /** What the session did to files the host runs (docs/sandbox.md, "Protected paths"); null until it ends. */
  protectedPaths: ProtectedPathsView | null;
  error: string | null;
}

export interface ProtectedPathsView {
  changes: {
    path: string;
    change: 'created' | 'changed' | 'deleted';
    outcome: 'kept-private' | 'quarantined' | 'sanitized' | 'failed';
    movedTo?: string;
    why: string;
    diff?: string;
    error?: string;
  }[];
  carried: string[];
  notes: string[];
  /** Changes past the report's limit (200): neutralised the same way, not listed. */
  omitted?: number;
}

export interface FlowSummary {
  seq?: number;
  id: string;
  sessionId: string;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  host: string;
  port: number;
  status: number | null;
  requestSize: number;
  responseSize: number;
  decision: 'allow' | 'deny';
  rule?: string;
  reason: string;
  error?: string;
}

export interface BodyView {
  size: number;
  truncated: boolean;
  encoding: 'utf8' | 'base64';
  data: string;
}

export interface FlowDetail extends FlowSummary {
  request: { headers: [string, string][]; body: BodyView };
  response: { status: number; statusText: string; headers: [string, string][]; body: BodyView } | null;
}

export interface PolicyView {
  policy: unknown;
  sessionAllow: string[];
  sessionDeny: string[];
  liveAllowed: string[];
  refused: { host: string; port: number; count: number; reason: string }[];
  canUpdateLive: boolean;
}

export interface Presets {
  presets: { name: string; title: string; command: string[] }[];
  models: string[];
  /** Shared package caches a session may ask for; `default` ones are sandbox.caches from the config. */
  caches: { kind: string; explain: string; default: boolean }[];
  /** What a session gets for each limit its request leaves out: from warren.yaml (`config`) or Warren's own. */
  limits: { limit: string; value: number; source: 'config' | 'warren' }[];
}

async function request<T>(csrfToken: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let value: unknown = undefined;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!response.ok) {
    const error = (value as { error?: { code?: string; message?: string; hint?: string } } | undefined)
      ?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http',
      error?.message ?? `HTTP ${response.status}`,
      error?.hint,
    );
  }
  return value as T;
}

export type Api = ReturnType<typeof createApi>;

/** The page's API client; it holds the CSRF token of the current login. */
export function createApi() {
  let csrfToken = '';
  const call = <T>(method: string, path: string, body?: unknown) => request<T>(csrfToken, method, path, body);
  const remember = (me: Me) => {
    csrfToken = me.csrfToken;
    return me;
  };
  return {
    setupNeeded: () => call<{ needed: boolean }>('GET', '/api/setup'),
    setup: (token: string, password: string) =>
      call<Me>('POST', '/api/setup', { token, password }).then(remember),
    login: (password: string) => call<Me>('POST', '/api/login', { password }).then(remember),
    logout: () => call<{ ok: true }>('POST', '/api/logout'),
    me: () => call<Me>('GET', '/api/me').then(remember),
    presets: () => call<Presets>('GET', '/api/presets'),
    logins: () => call<{ logins: LoginView[] }>('GET', '/api/logins'),
    revokeLogin: (id: string) => call<{ ok: true }>('DELETE', `/api/logins/${encodeURIComponent(id)}`),
    revokeOtherLogins: () => call<{ revoked: number }>('POST', '/api/logins/revoke-others'),
    sessions: () => call<{ sessions: SessionView[] }>('GET', '/api/sessions'),
    session: (id: string) => call<{ session: SessionView }>('GET', `/api/sessions/${encodeURIComponent(id)}`),
    createSession: (body: unknown) => call<{ session: SessionView }>('POST', '/api/sessions', body),
    stopSession: (id: string) =>
      call<{ session: SessionView }>('POST', `/api/sessions/${encodeURIComponent(id)}/stop`),
    deleteSession: (id: string) => call<{ ok: true }>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
    flows: (id: string, after?: number) =>
      call<{ flows: FlowSummary[]; next: number | null }>(
        'GET',
        `/api/sessions/${encodeURIComponent(id)}/flows?limit=1000${after !== undefined ? `&after=${after}` : ''}`,
      ),
    flow: (id: string, flowId: string) =>
      call<{ flow: FlowDetail }>(
        'GET',
        `/api/sessions/${encodeURIComponent(id)}/flows/${encodeURIComponent(flowId)}`,
      ),
    usage: (id: string) =>
      call<{ available: boolean; usage: unknown }>('GET', `/api/sessions/${encodeURIComponent(id)}/usage`),
    policy: (id: string) => call<PolicyView>('GET', `/api/sessions/${encodeURIComponent(id)}/policy`),
    allowHost: (id: string, host: string) =>
      call<{ liveAllowed: string[] }>('POST', `/api/sessions/${encodeURIComponent(id)}/policy/allow`, {
        host,
      }),
  };
}

/** The close code of a WebSocket whose login ended (docs/api.md): reconnecting would be refused. */
export const LOGIN_ENDED_CLOSE_CODE = 4401;

/** ws(s)://this-host/path */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
