import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getAdapter } from './adapters/index.js';
import type { GatewayConfig } from './config.js';
import {
  combineVerifiers,
  createMasterKeyVerifier,
  createSessionTokens,
  presentedKeys,
  type Caller,
  type TokenVerifier,
} from './keys.js';
import { answerFailure, sendError, sendJson } from './answers.js';
import { parseJsonBody, readBody } from './bodies.js';
import { handleModelCall, type CallDependencies } from './call/handle-model-call.js';
import { protocolGuess, routeOf } from './endpoints.js';
import { createModelsEndpoint } from './models-endpoint.js';
import { GatewayError } from './protocol/errors.js';
import { createRouter, type RouterOptions } from './router.js';
import { createUpstreamClient } from './upstream-client.js';
import type { UsageRecord, UsageSink } from './usage.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Tokens from `warren token create`; `createStoredTokenVerifier(store.tokens)` makes one. */
  tokens?: TokenVerifier;
  /** Where every call is recorded; the store's usage repository is one. */
  usage?: UsageSink;
  router?: RouterOptions;
  /** Largest request body accepted (images make bodies big); 32 MiB by default. */
  maxBodyBytes?: number;
  /** Largest non-streamed upstream answer read; 64 MiB by default. */
  maxUpstreamBodyBytes?: number;
  now?: () => number;
  /** How long `close()` lets calls under way finish before cutting them; 5 s by default. */
  closeGraceMs?: number;
  /** One line per finished request, for `warren gateway`'s console; nothing when absent. */
  log?: (line: string) => void;
  /**
   * Warnings for the server log: another vendor's identity sent to a model (once per model and wording
   * in this gateway's life). `log` when absent.
   */
  warn?: (line: string) => void;
}

/** Distinct identity warnings remembered, so that the log says each once; past this, the oldest go. */
const maxRememberedWarnings = 1000;

/** The session a request came from, as the egress proxy knows it (by the socket it arrived on). */
export interface GatewaySession {
  id: string;
}

export type GatewayHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  session?: GatewaySession,
) => void;

export interface Gateway {
  /** A node:http handler: the egress proxy calls it with the session; `listen` calls it with none. */
  handler: GatewayHandler;
  /** A token for `ANTHROPIC_API_KEY` / `OPENAI_API_KEY` inside one sandbox; valid until revoked. */
  issueSessionToken(sessionId: string): string;
  revokeSessionToken(sessionId: string): boolean;
  /** Starts a listening server on the handler (the standalone `warren gateway`). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops listening, lets calls under way finish (within `closeGraceMs`), drops pooled upstream connections. */
  close(): Promise<void>;
}

const noKeyMessage =
  'missing API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>" (the master key or a Warren token)';

/**
 * Builds the model gateway. The caller owns the result: one router (with its load-balancing state),
 * one pool of upstream connections, one set of session tokens, per gateway.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const sessionTokens = createSessionTokens();
  const verifier = combineVerifiers([
    sessionTokens,
    ...(options.config.masterKey ? [createMasterKeyVerifier(options.config.masterKey)] : []),
    ...(options.tokens ? [options.tokens] : []),
  ]);
  const client = createUpstreamClient();
  const router = createRouter(options.config, options.router);
  const warn = options.warn ?? options.log;
  const warned = new Set<string>();
  const dependencies: CallDependencies = {
    router,
    client,
    adapterFor: getAdapter,
    usage: options.usage,
    maxUpstreamBodyBytes: options.maxUpstreamBodyBytes ?? 64 * 1024 * 1024,
    ...(warn
      ? {
          onIdentityClaims(claims, deployment, model) {
            for (const claim of claims) {
              const key = `${deployment.label}\n${claim}`;
              if (warned.has(key)) continue;
              if (warned.size >= maxRememberedWarnings) warned.delete(warned.values().next().value!);
              warned.add(key);
              warn(
                `gateway: warning: ${model} → ${deployment.label} was told another vendor's identity: "${claim}" ` +
                  '(a prompt wording the identity rules do not rewrite; see docs/gateway.md, "Model identity")',
              );
            }
          },
        }
      : {}),
  };
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const servers = new Set<Server>();
  // Requests of the listening servers still being answered, so close() can let them finish.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  const authenticate = (request: IncomingMessage, session: GatewaySession | undefined): Caller => {
    const keys = presentedKeys(request.headers);
    if (keys.length === 0)
      throw new GatewayError({ status: 401, kind: 'authentication', message: noKeyMessage });
    for (const key of keys) {
      const caller = verifier.verify(key);
      // A session token is only good for traffic that arrives from its own sandbox (through the proxy).
      if (caller && !(caller.kind === 'session' && caller.sessionId !== session?.id)) return caller;
    }
    throw new GatewayError({
      status: 401,
      kind: 'authentication',
      message:
        "invalid API key: it is not this gateway's master key nor a live Warren token (expired or revoked?)",
    });
  };

  const models = createModelsEndpoint(router, now);

  const handle = async (
    request: IncomingMessage,
    response: ServerResponse,
    session: GatewaySession | undefined,
  ) => {
    const clock = performance.now();
    const startedAt = now();
    let recorded: UsageRecord | undefined;
    const route = routeOf(request.method, request.url);
    const adapter = getAdapter(route?.protocol ?? protocolGuess(request.url));
    try {
      if (!route) {
        request.resume();
        sendError(response, adapter, {
          status: 404,
          kind: 'not-found',
          message: `no such endpoint: ${request.method} ${request.url?.split('?')[0]}; the gateway serves POST /v1/chat/completions, /v1/responses, /v1/messages, /v1/messages/count_tokens and GET /v1/models, /health`,
        });
        return;
      }
      if (route.endpoint === 'health') {
        request.resume();
        sendJson(response, 200, { status: 'ok' });
        return;
      }
      const caller = authenticate(request, session);
      if (route.endpoint === 'models') {
        request.resume();
        models.list(response, caller);
        return;
      }
      if (route.endpoint === 'model') {
        request.resume();
        models.describe(response, caller, route.modelId!);
        return;
      }
      const body = parseJsonBody(await readBody(request, maxBodyBytes));
      // With a console to write to, the line for this call names the model and who answered it.
      const calls = options.log
        ? {
            ...dependencies,
            usage: {
              record(entry: UsageRecord) {
                recorded = entry;
                options.usage?.record(entry);
              },
            },
          }
        : dependencies;
      await handleModelCall(calls, {
        request,
        response,
        route,
        caller,
        sessionId: session?.id ?? caller.sessionId,
        body,
        startedAt,
        clock,
      });
    } catch (error) {
      if (!(error instanceof GatewayError))
        options.log?.(`gateway: internal error: ${(error as Error).stack ?? String(error)}`);
      answerFailure(response, adapter, error);
    } finally {
      if (options.log) {
        const call = recorded
          ? ` ${recorded.model} → ${recorded.upstream ?? '-'}${recorded.attempts > 1 ? ` (${recorded.attempts} attempts)` : ''} in ${recorded.inputTokens} out ${recorded.outputTokens}${recorded.error ? ` error: ${recorded.error}` : ''}${recorded.identityClaims?.length ? ` identity claims: ${recorded.identityClaims.length}` : ''}`
          : '';
        options.log(
          `${new Date(startedAt).toISOString()} ${request.method} ${request.url?.split('?')[0]} ${response.statusCode} ${(performance.now() - clock).toFixed(1)}ms${call}`,
        );
      }
    }
  };

  const handler: GatewayHandler = (request, response, session) => {
    // The handler never throws and never leaves a promise unhandled: the proxy calls it blindly.
    handle(request, response, session).catch((error: unknown) => {
      options.log?.(`gateway: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  };

  return {
    handler,
    issueSessionToken: (sessionId) => sessionTokens.issue(sessionId),
    revokeSessionToken: (sessionId) => sessionTokens.revoke(sessionId),
    listen(port, host = '127.0.0.1') {
      const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
        inFlight += 1;
        response.once('close', () => {
          inFlight -= 1;
          if (inFlight === 0) onIdle?.();
        });
        handler(request, response);
      });
      servers.add(server);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close() {
      const closing = [...servers].map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      // Calls under way get a grace period to finish; then every socket is closed, idle keep-alive
      // ones included (some clients open spare connections that Node does not count as idle).
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          onIdle = resolve;
          timer = setTimeout(resolve, options.closeGraceMs ?? 5_000);
        });
        clearTimeout(timer);
      }
      for (const server of servers) server.closeAllConnections();
      await Promise.all(closing);
      servers.clear();
      client.close();
    },
  };
}
