import type { FlowRecord, HostPolicy } from '../../proxy/index.js';
import type { AgentPreset, LimitSettings, SessionManager } from '../../sessions/index.js';
import { WarrenError } from '../../errors/index.js';
import type { SessionRow, Store } from '../../store/index.js';
import type { AuthService, Authenticated } from '../auth/auth-service.js';
import type { EventHub } from '../events.js';
import type { Route } from '../http/router.js';

/** Everything the API routes use; assembled by `warren serve` (or a test) and owned by the caller. */
export interface ApiParts {
  store: Store;
  sessions: SessionManager;
  auth: AuthService;
  events: EventHub;
  presets: AgentPreset[];
  /** The configured rules followed by the session's own (runtime.policyWith). */
  policyFor(extra: { allow: string[]; deny: string[] }): HostPolicy;
  /** warren.yaml's limits (limitSettingsOfConfig): what a request leaves out, before Warren's own defaults. */
  configuredLimits: LimitSettings;
  /** sandbox.caches from the config: what a session gets when its request names no caches. */
  defaultCaches?: string[];
  /** Model names the gateway routes, when a gateway runs. */
  models?: () => string[];
  /** The gateway's usage for one session, when a gateway runs. */
  usageFor?: (sessionId: string) => unknown;
  flowsToHar(flows: FlowRecord[]): unknown;
  /** Absolute paths that a session may not use in place or copy (Warren's own home). */
  forbiddenWorkspaceRoots: string[];
}

export type ApiRoute = Route<Authenticated>;

/** The session a route's `:id` names, or a 404. */
export function sessionRowOf(parts: ApiParts, id: string | undefined): SessionRow {
  const row = id === undefined ? undefined : parts.store.sessions.get(id);
  if (!row) throw new WarrenError('not-found', `no session ${id ?? ''}`);
  return row;
}
