import { chmod, lstat, unlink } from 'node:fs/promises';
import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { WarrenError } from '../errors/index.js';
import type { EgressProxyOptions, ListenerContext, ProxySession } from './context.js';
import { answerClientError, failedHandling, MAX_HEADER_BYTES } from './client-errors.js';
import type { LookupFunction } from './decide.js';
import {
  createRecordingBudget,
  DEFAULT_HEADER_CAP_BYTES,
  DEFAULT_SESSION_BUDGET_BYTES,
} from './recording-budget.js';
import { handleRequest } from './forward.js';
import { handleConnect, refuseNestedConnect } from './tunnel.js';
import { createUpstreamTrust } from './upstream-trust.js';
import { createUpstreamPool } from './upstream-client.js';
import { handleUpgrade } from './websocket.js';

/**
 * The egress proxy: one listener per session (TCP port or unix socket), each with its own upstream pool,
 * sharing the CA, the flow sink and the upstream trust store.
 */

export type ListenTarget = { port: number; host?: string } | { path: string };

export interface ProxyListener {
  /** The TCP port, or the unix socket path. */
  address: number | string;
  session: ProxySession;
  close(): Promise<void>;
}

export interface EgressProxy {
  listen(target: ListenTarget, session: ProxySession): Promise<ProxyListener>;
  /** Closes every listener still open. */
  close(): Promise<void>;
}

const defaultLookup: LookupFunction = (hostname, options) => dnsLookup(hostname, options);

/** Node's parser, outside (the listener) or inside CONNECT tunnels; every entry point fails closed. */
function createHttpParser(context: () => ListenerContext): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, noDelay: true, keepAliveTimeout: 30_000 });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    try {
      handleRequest(context(), request, response);
    } catch (error) {
      failedHandling(context(), request.socket, response, error);
    }
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      handleUpgrade(context(), request, socket, head);
    } catch (error) {
      failedHandling(context(), socket, undefined, error);
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(context(), error, socket),
  );
  return server;
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stats = await lstat(path);
    if (!stats.isSocket()) {
      throw new WarrenError(
        'conflict',
        `Cannot listen on ${path}: a file that is not a socket is in the way.`,
        {
          hint: 'Choose another socket path or remove that file.',
        },
      );
    }
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function listenOn(server: Server, target: ListenTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.removeListener('error', reject);
      resolve();
    };
    if ('path' in target) server.listen({ path: target.path }, done);
    else server.listen({ port: target.port, host: target.host ?? '127.0.0.1' }, done);
  });
}

export function createEgressProxy(options: EgressProxyOptions): EgressProxy {
  // Built on first use, so a session that never leaves over TLS (and `warren run -- true`) skips it.
  let trust: SecureContext | undefined;
  const upstreamTrust = () =>
    (trust ??= createUpstreamTrust(options.extraTrust ?? [], options.env ?? process.env));
  const listeners = new Set<ProxyListener>();
  const logger = options.logger ?? {
    warn: (message: string) => process.stderr.write(`warren proxy: ${message}\n`),
  };

  async function listen(target: ListenTarget, session: ProxySession): Promise<ProxyListener> {
    if ('path' in target) await removeStaleSocket(target.path);
    // Handlers run only after `context` below is set; the servers must exist before it can be.
    const getContext = (): ListenerContext => context;
    const outerServer = createHttpParser(getContext);
    const innerServer = createHttpParser(getContext);
    innerServer.on('connect', (request: IncomingMessage, socket: Duplex) =>
      refuseNestedConnect(getContext(), request, socket),
    );
    const pool = createUpstreamPool({
      trust: upstreamTrust,
      ...(session.onKeylog ? { onKeylog: session.onKeylog } : {}),
    });
    const sockets = new Set<Duplex>();
    outerServer.on('connect', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        handleConnect(getContext(), request, socket, head);
      } catch (error) {
        failedHandling(getContext(), socket, undefined, error);
      }
    });
    outerServer.on('connection', (socket: Socket) => socket.on('error', () => socket.destroy()));
    try {
      await listenOn(outerServer, target);
    } catch (error) {
      pool.destroy();
      const where = 'path' in target ? target.path : `${target.host ?? '127.0.0.1'}:${target.port}`;
      throw new WarrenError(
        'conflict',
        `Warren's proxy cannot listen on ${where}: ${(error as Error).message}`,
        {
          hint:
            'path' in target
              ? 'Check that the folder exists and is writable.'
              : 'Choose another port (--port).',
          cause: error,
        },
      );
    }
    let address: number | string;
    if ('path' in target) {
      // Only the owner may connect; the sandbox reaches it through a bind mount as a mapped user (see docs/proxy.md).
      await chmod(target.path, 0o600);
      address = target.path;
    } else {
      address = (outerServer.address() as AddressInfo).port;
    }
    const bodyCapBytes = options.bodyCapBytes ?? 1024 * 1024;
    const listenerHost = 'path' in target ? 'localhost' : `${target.host ?? '127.0.0.1'}:${address}`;
    const context: ListenerContext = {
      session,
      ca: options.ca,
      sink: options.sink,
      bodyCapBytes,
      recording: createRecordingBudget({
        bodyCapBytes,
        headerCapBytes: options.headerCapBytes ?? DEFAULT_HEADER_CAP_BYTES,
        sessionBudgetBytes: options.recordingBudgetBytes ?? DEFAULT_SESSION_BUDGET_BYTES,
      }),
      lookup: options.lookup ?? defaultLookup,
      gateway: options.gateway,
      logger,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? 60_000,
      tunnelFirstByteTimeoutMs: options.tunnelFirstByteTimeoutMs ?? 30_000,
      upstreamTrust,
      pool,
      tunnels: new WeakMap(),
      innerServer,
      listenerHost,
      sockets,
      recorders: new WeakMap(),
      literalDecisions: { policy: undefined, entries: new Map() },
    };
    let closing: Promise<void> | undefined;
    const listener: ProxyListener = {
      address,
      session,
      close() {
        closing ??= new Promise<void>((resolve) => {
          listeners.delete(listener);
          outerServer.close(() => resolve());
          outerServer.closeAllConnections();
          innerServer.closeAllConnections();
          for (const socket of sockets) socket.destroy();
          pool.destroy();
        }).then(async () => {
          if ('path' in target) await unlink(target.path).catch(() => undefined);
        });
        return closing;
      },
    };
    listeners.add(listener);
    return listener;
  }

  return {
    listen,
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
    },
  };
}
