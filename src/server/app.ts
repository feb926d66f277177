import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { WarrenError } from '../errors/index.js';
import { authRoutes } from './api/auth-routes.js';
import type { ApiParts, ApiRoute } from './api/context.js';
import { flowRoutes } from './api/flow-routes.js';
import { sessionRoutes } from './api/session-routes.js';
import type { Authenticated } from './auth/auth-service.js';
import { createLoginWatch } from './auth/login-watch.js';
import { secretsEqual } from './auth/tokens.js';
import { describeError, sendError } from './http/errors.js';
import { createHostCheck, type HostCheckOptions } from './http/host-check.js';
import { clientAddress, originAcceptable, originMatchesHost } from './http/origin.js';
import { sendJson } from './http/respond.js';
import { matchRoute } from './http/router.js';
import { SECURITY_HEADERS, serveStatic } from './http/static.js';
import { connectEventsSocket } from './ws/events-socket.js';
import { bindSocketToLogin } from './ws/login-bound.js';
import { connectTerminalSocket } from './ws/terminal-socket.js';

export interface WarrenAppOptions extends ApiParts {
  /** The built web app (web/dist). */
  webRoot: string;
  /** True when served over HTTPS: Secure cookies and https Origins. */
  secure: boolean;
  /** The Host names this server answers to (the rest get 421): see http/host-check.ts. */
  hosts: HostCheckOptions;
  /** How often the logins of open WebSockets are re-read from the store (default 500 ms). */
  loginCheckIntervalMs?: number;
  log?: (line: string) => void;
}

/** The HTTP and WebSocket entry points of `warren serve`, for any node:http(s) server to call. */
export interface WarrenApp {
  handleRequest(request: IncomingMessage, response: ServerResponse): void;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every WebSocket. */
  close(): void;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function refuseUpgrade(socket: Duplex, status: number, reason: string, body = ''): void {
  const type = body === '' ? '' : 'Content-Type: application/json; charset=utf-8\r\n';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Logs each refused Host name at most once a minute, so that a flood of them cannot flood the log. */
function createRefusalLog(log: ((line: string) => void) | undefined) {
  const lastLogged = new Map<string, number>();
  return (host: string, address: string) => {
    const at = Date.now();
    if ((lastLogged.get(host) ?? -Infinity) > at - 60_000) return;
    if (lastLogged.size >= 1000) lastLogged.clear();
    lastLogged.set(host, at);
    log?.(`warren serve: refused Host ${JSON.stringify(host.slice(0, 100))} from ${address}`);
  };
}

export function createWarrenApp(options: WarrenAppOptions): WarrenApp {
  const routes: ApiRoute[] = [
    {
      method: 'GET',
      path: '/api/health',
      access: 'public',
      handle: ({ response }) => sendJson(response, 200, { ok: true }),
    },
    ...authRoutes(options),
    ...sessionRoutes(options),
    ...flowRoutes(options),
  ];
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const checkHost = createHostCheck(options.hosts);
  const logRefusal = createRefusalLog(options.log);
  const logins = createLoginWatch({
    auth: options.auth,
    ...(options.loginCheckIntervalMs !== undefined ? { intervalMs: options.loginCheckIntervalMs } : {}),
  });

  /** The Host check, first thing for every request and upgrade; false when it answered. */
  const hostAllowed = (request: IncomingMessage, refuse: (error: WarrenError) => void): boolean => {
    const verdict = checkHost(request.headers.host);
    if (verdict.allowed) return true;
    logRefusal(request.headers.host ?? '(none)', clientAddress(request));
    refuse(verdict.error);
    return false;
  };

  /** Cookie, then (for state-changing methods) Origin and the CSRF token: every check must pass. */
  const authorize = (request: IncomingMessage, access: ApiRoute['access']): Authenticated | undefined => {
    const mutates = STATE_CHANGING.has(request.method ?? 'GET');
    if (access !== 'public' && mutates && !originAcceptable(request, options.secure)) {
      throw new WarrenError('forbidden', 'cross-origin request refused');
    }
    if (access !== 'login') return undefined;
    const authenticated = options.auth.authenticate(request.headers.cookie);
    if (!authenticated) throw new WarrenError('unauthorized', 'log in first');
    if (mutates) {
      const token = request.headers['x-csrf-token'];
      if (typeof token !== 'string' || !secretsEqual(token, authenticated.login.csrfToken)) {
        throw new WarrenError('forbidden', 'missing or wrong X-CSRF-Token header', {
          hint: 'send the csrfToken from GET /api/me in an X-CSRF-Token header',
        });
      }
    }
    return authenticated;
  };

  const handleApi = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const match = matchRoute(routes, request.method ?? 'GET', url.pathname);
    if (match === undefined) throw new WarrenError('not-found', `no API route ${url.pathname}`);
    if (match === 'method-not-allowed') {
      throw new WarrenError('invalid-argument', `${request.method ?? ''} is not allowed on ${url.pathname}`);
    }
    const auth = authorize(request, match.route.access) as Authenticated;
    await match.route.handle({ request, response, url, params: match.params, auth });
  };

  return {
    handleRequest(request, response) {
      const refuse = (error: WarrenError) => {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
        sendError(response, error);
      };
      if (!hostAllowed(request, refuse)) return;
      let url: URL;
      try {
        url = new URL(request.url ?? '/', 'http://warren.invalid');
      } catch {
        response.writeHead(400).end();
        return;
      }
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
        handleApi(request, response, url).catch((error: unknown) => {
          if (!(error instanceof WarrenError))
            options.log?.(`warren serve: ${request.method} ${url.pathname}: ${String(error)}`);
          sendError(response, error);
        });
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      serveStatic(options.webRoot, url.pathname, response);
    },
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const refuse = (error: WarrenError) => {
        const { status, body } = describeError(error);
        refuseUpgrade(
          socket,
          status,
          status === 421 ? 'Misdirected Request' : 'Bad Request',
          JSON.stringify(body),
        );
      };
      if (!hostAllowed(request, refuse)) return;
      const url = new URL(request.url ?? '/', 'http://warren.invalid');
      // A page on another site can open a WebSocket to us with the user's cookies: Origin is the guard.
      if (!originMatchesHost(request, options.secure)) return refuseUpgrade(socket, 403, 'Forbidden');
      const authenticated = options.auth.authenticate(request.headers.cookie);
      if (!authenticated) return refuseUpgrade(socket, 401, 'Unauthorized');
      if (url.pathname === '/api/events') {
        sockets.handleUpgrade(request, socket, head, (ws) =>
          connectEventsSocket(ws, options.events, (onEnd) =>
            bindSocketToLogin(ws, authenticated.login, logins, onEnd),
          ),
        );
        return;
      }
      const terminal = /^\/api\/sessions\/([\w-]+)\/terminal$/.exec(url.pathname);
      const live = terminal ? options.sessions.live(terminal[1] as string) : undefined;
      if (!live) return refuseUpgrade(socket, 404, 'Not Found');
      sockets.handleUpgrade(request, socket, head, (ws) =>
        connectTerminalSocket(ws, live.host, (onEnd) =>
          bindSocketToLogin(ws, authenticated.login, logins, onEnd),
        ),
      );
    },
    close() {
      logins.close();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
    },
  };
}
