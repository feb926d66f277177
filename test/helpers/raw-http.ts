import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../../src/proxy/index.js';

/**
 * Byte-level tools for framing and smuggling tests: an upstream that keeps every byte it receives
 * (and lets Node's HTTP parser act on them, as a real server would), raw client connections to the
 * proxy (plain or through an intercepted CONNECT tunnel), and a reader that splits what comes back
 * into responses. Everything talks to 127.0.0.1 only.
 */

export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

export interface RawUpstream {
  port: number;
  /** Every byte received, one entry per TCP connection in the order they opened (decrypted for TLS). */
  connections: Buffer[][];
  /** All bytes of all connections, latin1, connections in order. */
  receivedText(): string;
  /** The requests Node's parser found in those bytes: what a real upstream would have acted on. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Writes its own bytes for the n-th request head (0-based) instead of letting Node answer. */
export type ScriptedAnswer = (index: number) => string;

export interface RawUpstreamOptions {
  /** Serve TLS with a leaf for `servername` from this CA (the proxy trusts it through extraTrust). */
  tls?: { ca: CertificateAuthority; servername: string };
  /**
   * Answer each request head (bodiless requests only) with these exact bytes. Without it, Node's
   * HTTP server answers: `/echo` sends the request body back, anything else gets `ok <method> <path>`.
   */
  script?: ScriptedAnswer;
}

function echoAnswer(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  const text = request.url === '/echo' ? body : Buffer.from(`ok ${request.method} ${request.url}`);
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': text.length });
  response.end(text);
}

export async function startRawUpstream(options: RawUpstreamOptions = {}): Promise<RawUpstream> {
  const connections: Buffer[][] = [];
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  // Counted across connections: the proxy drops an upstream connection after a bad answer.
  let answered = 0;
  const parser = createHttpServer({ keepAliveTimeout: 30_000 });
  parser.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        rawHeaders: request.rawHeaders,
        body,
      });
      echoAnswer(request, response, body);
    });
  });
  // A real server answers garbage with 400 and closes; the bytes are kept either way.
  parser.on('clientError', (_error, socket: Socket) => socket.destroy());

  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const received: Buffer[] = [];
    connections.push(received);
    if (options.script) {
      const script = options.script;
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        text += chunk.toString('latin1');
        let end: number;
        while ((end = text.indexOf('\r\n\r\n')) >= 0) {
          text = text.slice(end + 4);
          socket.write(script(answered++), 'latin1');
        }
      });
      return;
    }
    // Node's server would read a real socket's handle directly, past any 'data' listener: give it a
    // stand-in that sees exactly the bytes recorded here.
    const relay = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        socket.write(chunk, callback);
      },
      final(callback) {
        socket.end();
        callback();
      },
      destroy(error, callback) {
        socket.destroy();
        callback(error);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      relay.push(chunk);
    });
    socket.on('end', () => relay.push(null));
    socket.on('close', () => relay.destroy());
    parser.emit('connection', relay);
  };

  let server;
  if (options.tls) {
    const leaf = await options.tls.ca.leafFor(options.tls.servername);
    server = createTlsServer(
      { cert: leaf.certificatePem, key: leaf.privateKeyPem, ALPNProtocols: ['http/1.1'] },
      accept,
    );
  } else {
    server = createNetServer(accept);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    receivedText: () => connections.map((chunks) => Buffer.concat(chunks).toString('latin1')).join(''),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  head: string;
  body: Buffer;
}

/**
 * Collects bytes from `socket` and splits them into HTTP/1.1 responses (Content-Length or chunked,
 * else until the close). `responses(n)` resolves once n are complete or the socket closed; `closed`
 * says whether it did.
 */
export function responseReader(socket: Socket | TLSSocket): {
  responses(count: number, timeoutMs?: number): Promise<RawResponse[]>;
  text(): string;
  closed(): boolean;
} {
  let buffer = Buffer.alloc(0);
  let all = '';
  let ended = false;
  const parsed: RawResponse[] = [];
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((waiter) => waiter());

  const parseOne = (): boolean => {
    const headEnd = buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return false;
    const head = buffer.toString('latin1', 0, headEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    const rest = buffer.subarray(headEnd + 4);
    if (length !== undefined) {
      if (rest.length < Number(length)) return false;
      parsed.push({ status, head, body: rest.subarray(0, Number(length)) });
      buffer = rest.subarray(Number(length));
      return true;
    }
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const chunks: Buffer[] = [];
      let offset = 0;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', offset);
        if (lineEnd < 0) return false;
        const size = parseInt(rest.toString('latin1', offset, lineEnd), 16);
        if (size === 0) {
          if (rest.length < lineEnd + 4) return false;
          parsed.push({ status, head, body: Buffer.concat(chunks) });
          buffer = rest.subarray(lineEnd + 4);
          return true;
        }
        if (rest.length < lineEnd + 2 + size + 2) return false;
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        offset = lineEnd + 2 + size + 2;
      }
    }
    if (!ended) return false;
    parsed.push({ status, head, body: rest });
    buffer = Buffer.alloc(0);
    return true;
  };

  socket.on('data', (chunk: Buffer) => {
    all += chunk.toString('latin1');
    buffer = Buffer.concat([buffer, chunk]);
    while (parseOne());
    wake();
  });
  const end = () => {
    ended = true;
    while (buffer.length > 0 && parseOne());
    wake();
  };
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', () => undefined);
  socket.resume();

  return {
    responses(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (parsed.length >= count || ended) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(parsed.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} responses, got ${parsed.length}: ${JSON.stringify(all)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    text: () => all,
    closed: () => ended,
  };
}

/** A plain TCP connection to the proxy. */
export function connectPlain(proxyPort: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** CONNECT to `authority`, then TLS inside the tunnel trusting `caPem` (Warren's CA). */
export function connectThroughTunnel(
  proxyPort: number,
  authority: string,
  servername: string,
  caPem: string,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1', () =>
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`),
    );
    socket.on('error', reject);
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData);
      socket.pause();
      if (!head.startsWith('HTTP/1.1 200')) {
        reject(new Error(`CONNECT refused: ${head}`));
        return;
      }
      const tls = tlsConnect({ socket, servername, ca: caPem, ALPNProtocols: ['http/1.1'] }, () =>
        resolve(tls),
      );
      tls.on('error', reject);
    };
    socket.on('data', onData);
  });
}
