import { connect } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { flowsToHar, policyFromArguments, validateHar } from '../src/proxy/index.js';
import { echoHandler, startHttpUpstream, type FakeUpstream } from './helpers/upstream.js';
import { proxiedRequest, startProxyHarness, type ProxyHarness } from './helpers/upstream-proxy-harness.js';

/** Plain HTTP through the proxy: policy, recording, robustness, streaming, the gateway route. */

let harness: ProxyHarness | undefined;
let upstream: FakeUpstream | undefined;

afterEach(async () => {
  await harness?.close();
  await upstream?.close();
  harness = undefined;
  upstream = undefined;
});

/** Writes raw bytes to the proxy and returns everything it answers until it closes or `until` matches. */
function rawExchange(port: number, bytes: string | Buffer, until = /\r\n\r\n[\s\S]*\n$/): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (until.test(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('egress proxy over plain HTTP', () => {
  it('forwards an allowed host and records the flow', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const url = `http://api.test:${upstream.port}/hello?x=1`;
    const response = await proxiedRequest(harness.port, url, {
      headers: { host: `api.test:${upstream.port}` },
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe('hello from upstream');
    expect(upstream.seen[0]).toMatchObject({ method: 'GET', url: '/hello?x=1' });
    expect(upstream.seen[0]!.headers.host).toBe(`api.test:${upstream.port}`);
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({
      sessionId: 'session-1',
      method: 'GET',
      url,
      scheme: 'http',
      host: 'api.test',
      port: upstream.port,
      policy: { decision: 'allow', rule: '--allow api.test' },
      tls: { mode: 'none' },
      response: { status: 200, statusText: 'OK' },
    });
    expect(flow!.response!.body.data.toString()).toBe('hello from upstream');
    expect(flow!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps connections alive on both sides', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let index = 0; index < 3; index++) {
      await new Promise<void>((resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port: harness!.port,
            path: `http://api.test:${upstream!.port}/${index}`,
            agent,
          },
          (response) => {
            reused.push(request.reusedSocket);
            response.resume();
            response.on('end', resolve);
          },
        );
        request.on('error', reject);
        request.end();
      });
    }
    agent.destroy();
    expect(reused).toEqual([false, true, true]);
    expect(upstream.seen).toHaveLength(3);
    expect(upstream.connections()).toBe(1);
  });

  it('applies backpressure to large responses and reuses the upstream connection afterwards', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 'z');
    upstream = await startHttpUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      response.end(big);
    });
    harness = await startProxyHarness({ allow: ['api.test'], bodyCapBytes: 1024 });
    const slowRead = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: harness!.port,
          path: `http://api.test:${upstream!.port}/big`,
          agent: false,
        },
        (response) => {
          let size = 0;
          response.pause(); // let the proxy's buffers fill before reading anything
          setTimeout(() => {
            response.on('data', (chunk: Buffer) => (size += chunk.length));
            response.on('end', () => resolve(size));
            response.resume();
          }, 300);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(slowRead).toBe(big.length);
    const again = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/again`);
    expect(again.body.length).toBe(big.length);
    expect(upstream.connections()).toBe(1);
    const flows = await harness.waitForFlows(2);
    expect(flows[0]!.response!.body).toMatchObject({ size: big.length, truncated: true });
  });

  it('forwards chunked uploads, HEAD requests, and survives an upstream closing idle connections', async () => {
    upstream = await startHttpUpstream((request, response, body) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length + 3) });
      response.end(request.method === 'HEAD' ? undefined : `got${body.toString()}`);
    });
    harness = await startProxyHarness({ allow: ['api.test'] });
    const upload = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: harness!.port,
          method: 'POST',
          path: `http://api.test:${upstream!.port}/up`,
          agent: false,
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.write('part one, ');
      setTimeout(() => request.end('part two'), 50);
    });
    expect(upload).toBe('gotpart one, part two');
    expect(upstream.seen[0]!.headers['transfer-encoding']).toBe('chunked');
    const head = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/h`, { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('3');
    // The upstream drops idle keep-alive connections; the next request must not fail.
    await upstream.close();
    upstream = await startHttpUpstream(echoHandler('fresh'));
    const after = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/`);
    expect(after.body).toBe('fresh');
  });

  it('forwards header bytes unchanged, non-ASCII included', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const head = `GET http://api.test:${upstream.port}/ HTTP/1.1\r\nHost: api.test:${upstream.port}\r\nX-Name: caf`;
    const bytes = Buffer.concat([
      Buffer.from(head),
      Buffer.from([0xe9]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    expect(await rawExchange(harness.port, bytes, /hello from upstream/)).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(upstream.seen[0]!.headers['x-name']).toBe('caf\u00e9');
  });

  it('follows a policy replaced while the session runs', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['127.0.0.1'] });
    const url = `http://127.0.0.1:${upstream.port}/`;
    expect((await proxiedRequest(harness.port, url)).status).toBe(200);
    harness.listener.session.policy = policyFromArguments({ allow: ['api.test'] });
    expect((await proxiedRequest(harness.port, url)).status).toBe(403);
    harness.listener.session.policy = policyFromArguments({ allow: [`127.0.0.1:${upstream.port}`] });
    expect((await proxiedRequest(harness.port, url)).status).toBe(200);
  });

  it('refuses a host no rule allows: 403, X-Warren-Policy, a readable body, a denied flow', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const response = await proxiedRequest(harness.port, `http://evil.test:${upstream.port}/steal`);
    expect(response.status).toBe(403);
    expect(response.headers['x-warren-policy']).toBe('default');
    expect(response.body).toContain(
      `Warren refused GET http://evil.test:${upstream.port}/steal because no --allow rule`,
    );
    expect(response.body).toContain('To allow it, the user can add --allow evil.test.');
    expect(upstream.seen).toHaveLength(0);
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({ policy: { decision: 'deny' }, response: { status: 403 } });
    expect(flow!.policy.rule).toBeUndefined();
  });

  it('an explicit deny names its rule in the header', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'], deny: [`api.test:${0 + 1}`, 'api.test'] });
    const response = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/`);
    expect(response.status).toBe(403);
    expect(response.headers['x-warren-policy']).toBe('--deny api.test');
    expect(response.body).toContain('the user can remove the rule --deny api.test');
  });

  it('a wildcard allows subdomains but never a loopback address; an exact rule does', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['*.example.test', 'exact.test'] });
    const viaWildcard = await proxiedRequest(harness.port, `http://www.example.test:${upstream.port}/`);
    expect(viaWildcard.status).toBe(403);
    expect(viaWildcard.body).toContain('resolves to 127.0.0.1, a loopback address');
    expect(viaWildcard.headers['x-warren-policy']).toBe('--allow *.example.test');
    const apex = await proxiedRequest(harness.port, `http://example.test:${upstream.port}/`);
    expect(apex.status).toBe(403);
    expect(apex.headers['x-warren-policy']).toBe('default');
    const exact = await proxiedRequest(harness.port, `http://exact.test:${upstream.port}/`);
    expect(exact.status).toBe(200);
    const literal = await proxiedRequest(harness.port, `http://127.0.0.1:${upstream.port}/`);
    expect(literal.status).toBe(403);
    expect(upstream.seen).toHaveLength(1);
  });

  it('replaces a Host header that differs from the request URL (RFC 9112), so it cannot reach another host', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const response = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/`, {
      headers: { host: 'other.test' },
    });
    expect(response.status).toBe(200);
    expect(upstream.seen[0]!.headers.host).toBe(`api.test:${upstream.port}`);
  });

  it('redacts secrets in recorded headers but forwards them intact', async () => {
    upstream = await startHttpUpstream((_request, response) => {
      response.setHeader('set-cookie', 'session=abc');
      response.setHeader('x-request-id', 'r-1');
      response.end('ok');
    });
    harness = await startProxyHarness({ allow: ['api.test'] });
    const secrets = {
      authorization: 'Bearer sk-live-1',
      cookie: 'a=b',
      'x-api-key': 'k-1',
      'api-key': 'k-2',
      'x-goog-api-key': 'k-3',
      'x-auth-token': 't-1',
      'x-client-secret': 's-1',
      'x-db-password': 'p-1',
      'x-harmless': 'visible',
    };
    await proxiedRequest(harness.port, `http://api.test:${upstream.port}/`, { headers: secrets });
    expect(upstream.seen[0]!.headers.authorization).toBe('Bearer sk-live-1');
    const [flow] = await harness.waitForFlows(1);
    const recorded = Object.fromEntries(
      flow!.request.headers.map(([name, value]) => [name.toLowerCase(), value]),
    );
    for (const name of Object.keys(secrets).filter((name) => name !== 'x-harmless')) {
      expect(recorded[name], name).toBe('[redacted]');
    }
    expect(recorded['x-harmless']).toBe('visible');
    const responseHeaders = Object.fromEntries(flow!.response!.headers.map(([name, value]) => [name, value]));
    expect(responseHeaders['set-cookie']).toBe('[redacted]');
    expect(responseHeaders['x-request-id']).toBe('r-1');
  });

  it('keeps bodies up to the cap and their true size', async () => {
    const big = 'x'.repeat(10_000);
    upstream = await startHttpUpstream(echoHandler(big));
    harness = await startProxyHarness({ allow: ['api.test'], bodyCapBytes: 1000 });
    const response = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/upload`, {
      method: 'POST',
      body: 'y'.repeat(5000),
    });
    expect(response.body).toBe(big);
    expect(upstream.seen[0]!.body.length).toBe(5000);
    const [flow] = await harness.waitForFlows(1);
    expect(flow!.request.body).toMatchObject({ size: 5000, truncated: true });
    expect(flow!.request.body.data.length).toBe(1000);
    expect(flow!.response!.body).toMatchObject({ size: 10_000, truncated: true });
    expect(flow!.response!.body.data.toString()).toBe('x'.repeat(1000));
  });

  it('streams SSE without buffering: the first event arrives before the upstream sends the second', async () => {
    let sendSecond: (() => void) | undefined;
    upstream = await startHttpUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('data: first\n\n');
      sendSecond = () => response.end('data: second\n\n');
    });
    harness = await startProxyHarness({ allow: ['api.test'] });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: harness!.port,
          path: `http://api.test:${upstream!.port}/stream`,
          agent: false,
        },
        (response) => {
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            received.push(chunk);
            // Only now, with the first event already at the client, does the upstream send the second.
            if (received.length === 1) {
              expect(chunk).toBe('data: first\n\n');
              sendSecond!();
            }
          });
          response.on('end', resolve);
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(received.join('')).toBe('data: first\n\ndata: second\n\n');
    const [flow] = await harness.waitForFlows(1);
    expect(flow!.response!.body.data.toString()).toBe('data: first\n\ndata: second\n\n');
  });

  it('answers an unreachable upstream with 502 and a timeout with 504, both recorded', async () => {
    upstream = await startHttpUpstream(() => undefined); // never answers
    harness = await startProxyHarness({ allow: ['api.test', 'down.test'], upstreamTimeoutMs: 300 });
    const closedPort = await startHttpUpstream(echoHandler()).then(async (server) => {
      await server.close();
      return server.port;
    });
    const refused = await proxiedRequest(harness.port, `http://down.test:${closedPort}/`);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain('the connection was refused');
    const slow = await proxiedRequest(harness.port, `http://api.test:${upstream.port}/`);
    expect(slow.status).toBe(504);
    expect(slow.body).toContain('no answer within 0.3 s');
    const flows = await harness.waitForFlows(2);
    expect(flows.map((flow) => flow.response?.status)).toEqual([502, 504]);
    expect(flows.every((flow) => flow.error !== undefined && flow.policy.decision === 'allow')).toBe(true);
  });

  it('answers malformed requests cleanly and keeps serving', async () => {
    upstream = await startHttpUpstream(echoHandler());
    harness = await startProxyHarness({ allow: ['api.test'] });
    const port = harness.port;
    expect(await rawExchange(port, 'NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    const hugeHeader = `GET http://api.test:${upstream.port}/ HTTP/1.1\r\nHost: api.test\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`;
    expect(await rawExchange(port, hugeHeader)).toMatch(
      /^HTTP\/1\.1 431 Request Header Fields Too Large[\s\S]*64 KiB/,
    );
    for (const target of ['api.test:0', 'api.test:99999', 'api.test:http', 'api.test']) {
      const answer = await rawExchange(port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      expect(answer, target).toMatch(
        /^HTTP\/1\.1 400 Bad Request[\s\S]*not host:port with a port from 1 to 65535/,
      );
    }
    const ftp = await rawExchange(port, 'GET ftp://api.test/file HTTP/1.1\r\nHost: api.test\r\n\r\n');
    expect(ftp).toMatch(/^HTTP\/1\.1 400 Bad Request[\s\S]*the scheme "ftp" is not supported/);
    const good = await proxiedRequest(port, `http://api.test:${upstream.port}/after`);
    expect(good.status).toBe(200);
    expect(upstream.seen.map((seen) => seen.url)).toEqual(['/after']);
  });

  it('aborts the upstream when the client disconnects mid-stream', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream = await startHttpUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: one\n\n');
      response.on('close', () => upstreamClosed());
    });
    harness = await startProxyHarness({ allow: ['api.test'] });
    await new Promise<void>((resolve) => {
      const request = httpRequest(
        { host: '127.0.0.1', port: harness!.port, path: `http://api.test:${upstream!.port}/`, agent: false },
        (response) => response.once('data', () => (request.destroy(), resolve())),
      );
      request.end();
    });
    await closed;
    const [flow] = await harness.waitForFlows(1);
    expect(flow!.error).toMatch(/closed the connection/);
  });

  it('routes origin-form requests and gateway.warren.internal to the gateway, recorded', async () => {
    harness = await startProxyHarness({
      allow: [],
      gateway: (request, response, session) => {
        const chunks: Buffer[] = [];
        // Read the body after a delay: capture must not depend on the handler reading at once.
        setTimeout(() => {
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => {
            response.writeHead(200, { 'content-type': 'application/json', 'x-session': session.id });
            response.end(JSON.stringify({ path: request.url, received: Buffer.concat(chunks).toString() }));
          });
        }, 20);
      },
    });
    const originForm = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        { host: '127.0.0.1', port: harness!.port, method: 'POST', path: '/v1/messages', agent: false },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end('{"model":"m"}');
    });
    expect(JSON.parse(originForm)).toEqual({ path: '/v1/messages', received: '{"model":"m"}' });
    const proxyForm = await proxiedRequest(harness.port, 'http://gateway.warren.internal/v1/models');
    expect(proxyForm.status).toBe(200);
    expect(proxyForm.headers['x-session']).toBe('session-1');
    const flows = await harness.waitForFlows(2);
    expect(flows[0]).toMatchObject({
      method: 'POST',
      url: `http://127.0.0.1:${harness.port}/v1/messages`,
      policy: { decision: 'allow', reason: 'Warren model gateway' },
      response: { status: 200 },
    });
    expect(flows[0]!.request.body.data.toString()).toBe('{"model":"m"}');
    expect(flows[0]!.response!.body.data.toString()).toContain('"received":"{\\"model\\":\\"m\\"}"');
    expect(flows[1]!.url).toBe('http://gateway.warren.internal/v1/models');
  });

  it('answers 404 with a clear text when no gateway is configured', async () => {
    harness = await startProxyHarness();
    const answer = await rawExchange(
      harness.port,
      'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found[\s\S]*no gateway is configured/);
  });

  it('exports recorded flows as valid HAR 1.2', async () => {
    upstream = await startHttpUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.from([0, 1, 2, 255]));
    });
    harness = await startProxyHarness({ allow: ['api.test'] });
    await proxiedRequest(harness.port, `http://api.test:${upstream.port}/bin?a=1&b=two`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"q":1}',
    });
    await proxiedRequest(harness.port, `http://denied.test:${upstream.port}/`);
    const flows = await harness.waitForFlows(2);
    const har = flowsToHar(flows, { creator: { name: 'warren-test', version: '1' } });
    expect(validateHar(har)).toEqual([]);
    const [allowed, denied] = har.log.entries;
    expect(allowed!.request.queryString).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: 'two' },
    ]);
    expect(allowed!.request.postData).toMatchObject({ mimeType: 'application/json', text: '{"q":1}' });
    expect(allowed!.response.content).toMatchObject({ size: 4, encoding: 'base64', text: 'AAEC/w==' });
    expect(allowed!._warren).toMatchObject({
      session: 'session-1',
      policy: { decision: 'allow' },
      tls: { mode: 'none' },
    });
    expect(denied!.response.status).toBe(403);
    expect(denied!.response.content.text).toContain('Warren refused');
    expect(validateHar({ log: { version: '1.2', entries: [{}] } }).length).toBeGreaterThan(5);
  });
});
