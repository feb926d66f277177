import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createUpstreamPool, type UpstreamPool, type UpstreamRequestHead } from './upstream-client.js';

/** A raw server that keeps what it receives and answers every request head with `ok`. */
async function startRecordingServer(): Promise<{ server: Server; port: number; received: () => string }> {
  let received = '';
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (chunk.includes('\r\n\r\n')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, received: () => received };
}

/** A raw server that answers the first request on each connection and drops the connection on the second. */
async function startDroppingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    let requests = 0;
    socket.on('data', () => {
      requests++;
      if (requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

function send(pool: UpstreamPool, port: number, head: UpstreamRequestHead, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const exchange = pool.request(
      { secure: false, address: '127.0.0.1', port, servername: undefined },
      head,
      {
        onResponse: () => undefined,
        onData: (chunk) => ((text += chunk.toString()), true),
        onEnd: () => resolve(text),
        onError: reject,
      },
    );
    if (body !== undefined) exchange.writeBody(Buffer.from(body));
    exchange.endBody();
  });
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  cleanup.forEach((step) => step());
  cleanup = [];
});

describe('upstream pool', () => {
  it('retries a bodiless request once when a reused connection turns out to be closed', async () => {
    const upstream = await startDroppingServer();
    const pool = createUpstreamPool({ trust: () => createSecureContext() });
    cleanup.push(
      () => pool.destroy(),
      () => upstream.server.close(),
    );
    const get: UpstreamRequestHead = {
      method: 'GET',
      path: '/',
      headers: ['Host', 'a.test'],
      body: { kind: 'none' },
    };
    expect(await send(pool, upstream.port, get)).toBe('ok');
    expect(await send(pool, upstream.port, get)).toBe('ok'); // reused, dropped, retried on a fresh connection
    expect(upstream.connections()).toBe(2);
  });

  it('refuses line breaks in a header value instead of splitting the request', async () => {
    const upstream = await startDroppingServer();
    const pool = createUpstreamPool({ trust: () => createSecureContext() });
    cleanup.push(
      () => pool.destroy(),
      () => upstream.server.close(),
    );
    const smuggling: UpstreamRequestHead = {
      method: 'GET',
      path: '/',
      headers: ['Host', 'a.test', 'X-Token', 'v\r\nGET /admin HTTP/1.1'],
      body: { kind: 'none' },
    };
    await expect(send(pool, upstream.port, smuggling)).rejects.toThrow(/line break in the header X-Token/);
    expect(upstream.connections()).toBe(0);
  });

  it('does not resend a request whose body was already streamed', async () => {
    const upstream = await startDroppingServer();
    const pool = createUpstreamPool({ trust: () => createSecureContext() });
    cleanup.push(
      () => pool.destroy(),
      () => upstream.server.close(),
    );
    const post: UpstreamRequestHead = {
      method: 'POST',
      path: '/',
      headers: ['Host', 'a.test'],
      body: { kind: 'length', length: 1 },
    };
    expect(await send(pool, upstream.port, post, 'x')).toBe('ok');
    await expect(send(pool, upstream.port, post, 'x')).rejects.toThrow(/closed the connection/);
  });

  it('writes the framing it was given and no framing header it was handed', async () => {
    const upstream = await startRecordingServer();
    const pool = createUpstreamPool({ trust: () => createSecureContext() });
    cleanup.push(
      () => pool.destroy(),
      () => upstream.server.close(),
    );
    const post: UpstreamRequestHead = {
      method: 'POST',
      path: '/',
      headers: ['Host', 'a.test', 'Content-Length', '99', 'Transfer-Encoding', 'chunked', 'X-Kept', '1'],
      body: { kind: 'length', length: 3 },
    };
    expect(await send(pool, upstream.port, post, 'abc')).toBe('ok');
    expect(upstream.received()).toBe(
      'POST / HTTP/1.1\r\nHost: a.test\r\nX-Kept: 1\r\nContent-Length: 3\r\n\r\nabc',
    );
  });

  it('never sends more body than the length it declared, nor ends short of it', async () => {
    const upstream = await startRecordingServer();
    const pool = createUpstreamPool({ trust: () => createSecureContext() });
    cleanup.push(
      () => pool.destroy(),
      () => upstream.server.close(),
    );
    const post: UpstreamRequestHead = {
      method: 'POST',
      path: '/',
      headers: ['Host', 'a.test'],
      body: { kind: 'length', length: 3 },
    };
    await expect(send(pool, upstream.port, post, 'abcGET /smuggled HTTP/1.1\r\n\r\n')).rejects.toThrow(
      /longer than the length/,
    );
    await expect(send(pool, upstream.port, post, 'ab')).rejects.toThrow(/ended before the length/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(upstream.received()).not.toContain('smuggled');
  });
});
