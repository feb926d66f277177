import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../endpoints.js';
import type { Caller } from '../keys.js';
import type { ApiProtocol, ProtocolAdapter } from '../protocol/types.js';
import type { Router } from '../router.js';
import type { UpstreamClient } from '../upstream-client.js';
import type { UsageSink } from '../usage.js';

/** What one model call needs from the gateway that runs it. */
export interface CallDependencies {
  router: Router;
  client: UpstreamClient;
  adapterFor(protocol: ApiProtocol): ProtocolAdapter;
  usage: UsageSink | undefined;
  maxUpstreamBodyBytes: number;
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
