import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../../src/proxy/index.js';

/**
 * Fake upstream servers on loopback for proxy and gateway tests. Each returns its port and a close();
 * nothing here talks to any address but 127.0.0.1.
 */

export interface FakeUpstream {
  port: number;
  /** Requests seen, in order (method, url, headers, body). */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }>;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  close(): Promise<void>;
}

export type UpstreamHandler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

function track(server: Server, handler: UpstreamHandler): Pick<FakeUpstream, 'seen' | 'connections'> {
  const seen: FakeUpstream['seen'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Upgraded sockets leave the HTTP server's bookkeeping: close() destroys them through this list.
  server.on('warren:close', () => sockets.forEach((socket) => socket.destroy()));
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handler(request, response, body);
    });
  });
  return { seen, connections: () => connections };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.emit('warren:close');
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

export interface UpstreamOptions {
  /** Also accept WebSocket upgrades, answering each text frame with `echo: <text>`. */
  websockets?: boolean;
}

/** Plain HTTP on 127.0.0.1 with a random port. */
export async function startHttpUpstream(
  handler: UpstreamHandler,
  options: UpstreamOptions = {},
): Promise<FakeUpstream> {
  const server = createServer();
  const tracked = track(server, handler);
  if (options.websockets) acceptWebsockets(server);
  return { port: await listen(server), ...tracked, close: closer(server) };
}

/** HTTPS on 127.0.0.1 with leaves from `ca` (a test CA the proxy is told to trust), chosen by SNI. */
export async function startHttpsUpstream(
  ca: CertificateAuthority,
  handler: UpstreamHandler,
  options: UpstreamOptions = {},
): Promise<FakeUpstream> {
  // Clients that send no SNI (IP literals) get the certificate for 127.0.0.1.
  const fallback = await ca.leafFor('127.0.0.1');
  const server = createHttpsServer({
    cert: fallback.certificatePem,
    key: fallback.privateKeyPem,
    SNICallback: (servername, callback) => {
      ca.leafFor(servername).then(
        (leaf) => callback(null, leaf.secureContext),
        (error: Error) => callback(error),
      );
    },
  });
  const tracked = track(server, handler);
  if (options.websockets) acceptWebsockets(server);
  return { port: await listen(server), ...tracked, close: closer(server) };
}

/** Replies with `text` (default `hello from upstream`) and echoes the method and path in headers. */
export const echoHandler =
  (text = 'hello from upstream'): UpstreamHandler =>
  (request, response) => {
    response.writeHead(200, {
      'content-type': 'text/plain',
      'x-upstream-method': request.method ?? '',
      'x-upstream-path': request.url ?? '',
    });
    response.end(text);
  };

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** One unmasked (server) or masked (client) text frame, payload under 126 bytes. */
export function websocketFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  if (!masked) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, body]);
}

/** Decodes one small frame (masked or not); undefined until it is complete. */
export function readWebsocketFrame(buffer: Buffer): string | undefined {
  if (buffer.length < 2) return undefined;
  const masked = (buffer[1]! & 0x80) !== 0;
  const length = buffer[1]! & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (buffer.length < start + length) return undefined;
  const payload = buffer.subarray(start, start + length);
  if (!masked) return payload.toString();
  const mask = buffer.subarray(2, 6);
  return Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!)).toString();
}

/** Adds a WebSocket endpoint that answers each text frame with `echo: <text>`. */
export function acceptWebsockets(server: Server): void {
  server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    const key = String(request.headers['sec-websocket-key'] ?? '');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\n\r\n`,
    );
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const text = readWebsocketFrame(buffered);
      if (text !== undefined) {
        buffered = Buffer.alloc(0);
        socket.write(websocketFrame(`echo: ${text}`, false));
      }
    });
    socket.on('error', () => socket.destroy());
  });
}
