import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../endpoints.js';
import type { Caller } from '../keys.js';
import type { ApiProtocol, ProtocolAdapter } from '../protocol/types.js';
import type { Deployment, Router } from '../router.js';
import type { UpstreamClient } from '../upstream-client.js';
import type { UsageSink } from '../usage.js';

/** What one model call needs from the gateway that runs it. */
export interface CallDependencies {
  router: Router;
  client: UpstreamClient;
  adapterFor(protocol: ApiProtocol): ProtocolAdapter;
  usage: UsageSink | undefined;
  maxUpstreamBodyBytes: number;
  /** Hears of another vendor's identity claims sent to a deployment's model (for the server log). */
  onIdentityClaims?(claims: string[], deployment: Deployment, model: string): void;
}

/** One caller's request, once the endpoint and the caller are known. */
export interface CallContext {
  request: IncomingMessage;
  response: ServerResponse;
  route: Route;
  caller: Caller;
  sessionId: string | null;
  body: unknown;
  startedAt: number;
  /** performance.now() when the request arrived. */
  clock: number;
}
