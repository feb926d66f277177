import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import type { BodyFraming } from './framing.js';
import { createResponseParser, type ResponseHead } from './response-parser.js';

/**
 * A small HTTP/1.1 client with a keep-alive pool, for forwarding. Node's http.request costs about
 * 18 µs of CPU per request on this path; writing the request head ourselves and parsing the
 * response with `response-parser.ts` costs a fraction of that (see docs/performance.md). Upgrades
 * (WebSocket) still use Node's client.
 */

export interface UpstreamTarget {
  secure: boolean;
  /** The checked IP address: never a name, so nothing is looked up again. */
  address: string;
  port: number;
  /** SNI and the name the certificate must carry; undefined for IP literals (checked against the IP). */
  servername: string | undefined;
}

export interface UpstreamRequestHead {
  method: string;
  path: string;
  /** Flat name/value list, hop-by-hop and framing headers removed, Host included. */
  headers: readonly string[];
  /**
   * How the body is framed upstream, written by this client and nothing else: no body, exactly
   * `length` bytes (Content-Length), or re-chunked (Transfer-Encoding: chunked).
   */
  body: BodyFraming;
}

export interface UpstreamHandlers {
  onResponse(head: ResponseHead, socket: Socket): void;
  /** Returns false to pause the upstream until `resume()`. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  onError(error: Error): void;
}

export interface UpstreamExchange {
  /** Returns false when the caller should wait for `onDrain`. */
  writeBody(chunk: Buffer): boolean;
  endBody(): void;
  onDrain(callback: () => void): void;
  resume(): void;
  abort(): void;
}

export interface UpstreamPool {
  request(target: UpstreamTarget, head: UpstreamRequestHead, handlers: UpstreamHandlers): UpstreamExchange;
  destroy(): void;
}

export interface UpstreamPoolOptions {
  /** Called at the first TLS connection: building a context with ~150 roots takes ~40 ms. */
  trust: () => SecureContext;
  onKeylog?: (line: Buffer) => void;
  maxIdlePerTarget?: number;
  idleTimeoutMs?: number;
}

interface PooledSocket {
  socket: Socket;
  key: string;
  /** The exchange using the socket, or undefined while idle. */
  current: ((event: 'data' | 'close' | 'error', chunk?: Buffer, error?: Error) => void) | undefined;
  /** Served an exchange before (came from the idle pool): a failure may be a stale keep-alive. */
  used: boolean;
}

function keyOf(target: UpstreamTarget): string {
  return `${target.secure ? 's' : 'p'} ${target.address} ${target.port} ${target.servername ?? ''}`;
}

/** Line breaks in a header would let a rewritten header (hooks) split the request: refuse them. */
const LINE_BREAK = /[\r\n]/;

function isFramingHeader(name: string): boolean {
  return (
    (name.length === 14 && name.toLowerCase() === 'content-length') ||
    (name.length === 17 && name.toLowerCase() === 'transfer-encoding')
  );
}

function serializeHead(head: UpstreamRequestHead): string {
  if (LINE_BREAK.test(head.path) || LINE_BREAK.test(head.method))
    throw new Error('line break in the request line');
  let text = `${head.method} ${head.path} HTTP/1.1\r\n`;
  for (let index = 0; index + 1 < head.headers.length; index += 2) {
    const name = head.headers[index]!;
    const value = head.headers[index + 1]!;
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value)) throw new Error(`line break in the header ${name}`);
    if (isFramingHeader(name)) continue; // the framing below is the only one this client writes
    text += `${name}: ${value}\r\n`;
  }
  if (head.body.kind === 'length') text += `Content-Length: ${head.body.length}\r\n`;
  else if (head.body.kind === 'chunked') text += 'Transfer-Encoding: chunked\r\n';
  return `${text}\r\n`;
}

const CHUNK_END = Buffer.from('0\r\n\r\n');
const CRLF = Buffer.from('\r\n');

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const idle = new Map<string, PooledSocket[]>();
  const all = new Set<PooledSocket>();
  const maxIdle = options.maxIdlePerTarget ?? 64;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;

  function removeIdle(pooled: PooledSocket): void {
    const list = idle.get(pooled.key);
    if (!list) return;
    const index = list.indexOf(pooled);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) idle.delete(pooled.key);
  }

  function open(target: UpstreamTarget, key: string): PooledSocket {
    const socket: Socket = target.secure
      ? tlsConnect({
          host: target.address,
          port: target.port,
          secureContext: options.trust(),
          ALPNProtocols: ['http/1.1'],
          ...(target.servername ? { servername: target.servername } : {}),
        })
      : netConnect({ host: target.address, port: target.port });
    socket.setNoDelay(true);
    const pooled: PooledSocket = { socket, key, current: undefined, used: false };
    all.add(pooled);
    if (target.secure && options.onKeylog) {
      const onKeylog = options.onKeylog;
      (socket as TLSSocket).on('keylog', (line: Buffer) => onKeylog(line));
    }
    socket.on('data', (chunk: Buffer) => {
      if (pooled.current) pooled.current('data', chunk);
      else socket.destroy(); // bytes nobody asked for: the connection cannot be trusted any more
    });
    socket.on('error', (error: Error) => pooled.current?.('error', undefined, error));
    socket.on('close', () => {
      all.delete(pooled);
      removeIdle(pooled);
      pooled.current?.('close');
    });
    socket.on('timeout', () => {
      if (!pooled.current) socket.destroy();
    });
    return pooled;
  }

  function release(pooled: PooledSocket): void {
    pooled.current = undefined;
    pooled.used = true;
    const list = idle.get(pooled.key) ?? [];
    if (list.length >= maxIdle || pooled.socket.destroyed) {
      pooled.socket.destroy();
      return;
    }
    // The last response may have ended while the socket was paused for backpressure.
    pooled.socket.resume();
    pooled.socket.setTimeout(idleTimeoutMs);
    list.push(pooled);
    idle.set(pooled.key, list);
  }

  function take(target: UpstreamTarget, key: string): PooledSocket {
    const list = idle.get(key);
    while (list && list.length > 0) {
      const pooled = list.pop()!;
      if (list.length === 0) idle.delete(key);
      if (!pooled.socket.destroyed) {
        pooled.socket.setTimeout(0);
        return pooled;
      }
    }
    return open(target, key);
  }

  function request(
    target: UpstreamTarget,
    head: UpstreamRequestHead,
    handlers: UpstreamHandlers,
  ): UpstreamExchange {
    const key = keyOf(target);
    let serialized: string;
    try {
      serialized = serializeHead(head);
    } catch (error) {
      queueMicrotask(() => handlers.onError(error as Error));
      return { writeBody: () => true, endBody() {}, onDrain() {}, resume() {}, abort() {} };
    }
    let pooled = take(target, key);
    let reused = pooled.used;
    let requestSent = head.body.kind === 'none';
    /** Body bytes still owed upstream when framed by length: never more, never fewer. */
    let owed = head.body.kind === 'length' ? head.body.length : 0;
    let responseDone = false;
    let finished = false;
    let receivedAny = false;
    let retried = false;
    let paused = false;
    const parser = createResponseParser(head.method === 'HEAD', {
      onHead(responseHead) {
        handlers.onResponse(responseHead, pooled.socket);
      },
      onBody(chunk) {
        if (!handlers.onData(chunk) && !paused) {
          paused = true;
          pooled.socket.pause();
        }
      },
      onComplete(keepAlive) {
        responseDone = true;
        settle(keepAlive);
      },
    });

    function settle(keepAlive: boolean): void {
      if (finished) return;
      finished = true;
      if (keepAlive && requestSent && !pooled.socket.destroyed) release(pooled);
      else {
        pooled.current = undefined;
        pooled.socket.destroy();
      }
      handlers.onEnd();
    }

    function fail(error: Error): void {
      if (finished) return;
      // A reused connection the server had closed: retry once on a fresh one if nothing was sent back
      // and the request can be sent again (no body streamed yet).
      if (!receivedAny && reused && !retried && head.body.kind === 'none') {
        retried = true;
        reused = false;
        pooled.current = undefined;
        pooled.socket.destroy();
        pooled = open(target, key);
        attach();
        return;
      }
      finished = true;
      pooled.current = undefined;
      pooled.socket.destroy();
      handlers.onError(error);
    }

    function attach(): void {
      pooled.current = (event, chunk, error) => {
        if (event === 'data') {
          receivedAny = true;
          try {
            parser.push(chunk!);
          } catch (parseError) {
            fail(parseError as Error);
          }
        } else if (event === 'error') {
          fail(error!);
        } else if (!responseDone) {
          // The connection closed: the end of a close-delimited body, or a failure.
          if (receivedAny && parser.endOfStream()) return;
          fail(Object.assign(new Error('the upstream closed the connection'), { code: 'ECONNRESET' }));
        }
      };
      // Node decodes header bytes as latin1; writing them back as latin1 keeps non-ASCII bytes intact.
      pooled.socket.write(serialized, 'latin1');
    }

    attach();

    return {
      writeBody(chunk) {
        if (finished || pooled.socket.destroyed || chunk.length === 0) return true;
        if (head.body.kind === 'chunked') {
          pooled.socket.write(`${chunk.length.toString(16)}\r\n`);
          pooled.socket.write(chunk);
          return pooled.socket.write(CRLF);
        }
        // More than the declared length would start another request upstream: end the exchange instead.
        owed -= chunk.length;
        if (owed < 0 || head.body.kind === 'none') {
          fail(new Error('the request body is longer than the length Warren sent upstream'));
          return true;
        }
        return pooled.socket.write(chunk);
      },
      endBody() {
        if (owed > 0) {
          fail(new Error('the request body ended before the length Warren sent upstream'));
          return;
        }
        if (head.body.kind === 'chunked' && !finished && !pooled.socket.destroyed)
          pooled.socket.write(CHUNK_END);
        requestSent = true;
        if (responseDone && !finished) settle(true);
      },
      onDrain(callback) {
        pooled.socket.once('drain', callback);
      },
      resume() {
        if (!paused || finished) return;
        paused = false;
        pooled.socket.resume();
      },
      abort() {
        if (finished) return;
        finished = true;
        pooled.current = undefined;
        pooled.socket.destroy();
      },
    };
  }

  return {
    request,
    destroy() {
      for (const pooled of all) pooled.socket.destroy();
      idle.clear();
    },
  };
}
