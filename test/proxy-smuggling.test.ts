import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretSwap, type FlowRecord } from '../src/proxy/index.js';
import {
  connectPlain,
  connectThroughTunnel,
  responseReader,
  startRawUpstream,
  type RawUpstream,
  type ScriptedAnswer,
} from './helpers/raw-http.js';
import {
  startProxyHarness,
  type HarnessOptions,
  type ProxyHarness,
} from './helpers/upstream-proxy-harness.js';

/**
 * Request smuggling, tried byte for byte. The client is a raw socket; the upstream is a raw server that
 * keeps every byte it receives and lets Node's parser act on them as a real server would. Each attack
 * runs over plain HTTP (absolute-form) and inside an intercepted TLS tunnel (CONNECT). The proxy owns the
 * framing of what it forwards (RFC 9112 §6): it writes Content-Length / Transfer-Encoding itself, never
 * lets `Connection` remove them, and refuses ambiguous framing with 400 (requests) or 502 (responses),
 * recorded as a flow, without desynchronising either connection.
 */

const HOST = 'smuggle.test';

let harness: ProxyHarness | undefined;
let upstream: RawUpstream | undefined;
const clients: Array<Socket | TLSSocket> = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await harness?.close();
  await upstream?.close();
  harness = undefined;
  upstream = undefined;
});

interface Transport {
  name: string;
  tls: boolean;
}

const TRANSPORTS: Transport[] = [
  { name: 'plain HTTP (absolute-form)', tls: false },
  { name: 'an intercepted TLS tunnel (CONNECT)', tls: true },
];

interface Setup {
  harness: ProxyHarness;
  upstream: RawUpstream;
  /** The request line the client writes for `method path` over this transport. */
  requestLine(method: string, path: string, version?: string): string;
  /** The Host header the upstream must receive. */
  hostLine: string;
  connect(): Promise<Socket | TLSSocket>;
}

async function setUp(
  transport: Transport,
  options: { script?: ScriptedAnswer; harness?: HarnessOptions } = {},
): Promise<Setup> {
  harness = await startProxyHarness({ allow: [HOST], ...options.harness });
  upstream = await startRawUpstream({
    ...(transport.tls ? { tls: { ca: harness.upstreamCa, servername: HOST } } : {}),
    ...(options.script ? { script: options.script } : {}),
  });
  const authority = `${HOST}:${upstream.port}`;
  const proxy = harness;
  return {
    harness,
    upstream,
    requestLine: (method, path, version = '1.1') =>
      transport.tls
        ? `${method} ${path} HTTP/${version}`
        : `${method} http://${authority}${path} HTTP/${version}`,
    hostLine: `Host: ${authority}`,
    async connect() {
      const socket = transport.tls
        ? await connectThroughTunnel(proxy.port, authority, HOST, proxy.ca.certificatePem)
        : await connectPlain(proxy.port);
      clients.push(socket);
      return socket;
    },
  };
}

const message = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

/** Waits until the upstream stopped receiving: a refused request must leave nothing on the way. */
async function settled(setup: Setup, flows: number): Promise<FlowRecord[]> {
  const recorded = await setup.harness.waitForFlows(flows);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return recorded;
}

interface ForwardedCase {
  name: string;
  headers: string[];
  body: string;
  /** The header lines after Host and the body, exactly as the upstream must receive them. */
  forwarded: { headers: string[]; body: string };
}

interface RefusedCase {
  name: string;
  version?: string;
  headers: string[];
  body: string;
  because: RegExp;
  /**
   * nothing: not a byte reaches the upstream. incomplete: the head may have left before the body
   * turned out to be malformed; the upstream connection is then closed before a request completes.
   */
  upstream: 'nothing' | 'incomplete';
}

const SMUGGLED = `GET /admin HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;

const FORWARDED: ForwardedCase[] = [
  {
    name: 'Connection: content-length (the body keeps its length)',
    headers: ['Connection: content-length', `Content-Length: ${SMUGGLED.length}`],
    body: SMUGGLED,
    forwarded: { headers: [`Content-Length: ${SMUGGLED.length}`], body: SMUGGLED },
  },
  {
    name: 'Connection naming every framing header and Host',
    headers: [
      'Connection: keep-alive, Content-Length, Transfer-Encoding, Host, Keep-Alive',
      'Keep-Alive: timeout=5',
      'X-Kept: yes',
      `Content-Length: ${SMUGGLED.length}`,
    ],
    body: SMUGGLED,
    forwarded: { headers: ['X-Kept: yes', `Content-Length: ${SMUGGLED.length}`], body: SMUGGLED },
  },
  {
    name: 'Connection: transfer-encoding (the body stays chunked)',
    headers: ['Connection: transfer-encoding', 'Transfer-Encoding: chunked'],
    body: `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    forwarded: {
      headers: ['Transfer-Encoding: chunked'],
      body: `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    },
  },
  {
    name: 'chunk extensions and trailers (dropped, the chunks re-framed)',
    headers: ['Transfer-Encoding: chunked'],
    body: '3;ext=1\r\nabc\r\n0;last="x;y"\r\nX-Trailer: GET /admin\r\n\r\n',
    forwarded: { headers: ['Transfer-Encoding: chunked'], body: '3\r\nabc\r\n0\r\n\r\n' },
  },
  {
    name: 'Transfer-Encoding in capitals',
    headers: ['Transfer-Encoding: CHUNKED'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    forwarded: { headers: ['Transfer-Encoding: chunked'], body: '3\r\nabc\r\n0\r\n\r\n' },
  },
  {
    name: 'a request in the body, properly framed (it stays a body)',
    headers: [`Content-Length: ${SMUGGLED.length}`],
    body: SMUGGLED,
    forwarded: { headers: [`Content-Length: ${SMUGGLED.length}`], body: SMUGGLED },
  },
  {
    name: 'Content-Length: 0',
    headers: ['Content-Length: 0'],
    body: '',
    forwarded: { headers: ['Content-Length: 0'], body: '' },
  },
];

const REFUSED: RefusedCase[] = [
  {
    name: 'CL.TE: Content-Length then Transfer-Encoding',
    headers: ['Content-Length: 6', 'Transfer-Encoding: chunked'],
    body: '0\r\n\r\nG',
    because: /Transfer-Encoding|Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'TE.CL: Transfer-Encoding then Content-Length',
    headers: ['Transfer-Encoding: chunked', 'Content-Length: 3'],
    body: '8\r\nSMUGGLED\r\n0\r\n\r\n',
    because: /Transfer-Encoding|Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'duplicate Content-Length, same value',
    headers: ['Content-Length: 3', 'Content-Length: 3'],
    body: 'abc',
    because: /Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'duplicate Content-Length, different values',
    headers: ['Content-Length: 3', 'Content-Length: 40'],
    body: `abc${SMUGGLED}`,
    because: /Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'Content-Length as a list',
    headers: ['Content-Length: 3, 3'],
    body: 'abc',
    because: /Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'Content-Length with a sign',
    headers: ['Content-Length: +3'],
    body: 'abc',
    because: /Content-Length/,
    upstream: 'nothing',
  },
  {
    name: 'Transfer-Encoding twice',
    headers: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    because: /Transfer-Encoding/,
    upstream: 'nothing',
  },
  {
    name: 'Transfer-Encoding: gzip, chunked (a coding Warren does not forward)',
    headers: ['Transfer-Encoding: gzip, chunked'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    because: /Transfer-Encoding/,
    upstream: 'nothing',
  },
  {
    name: 'Transfer-Encoding in an HTTP/1.0 request',
    version: '1.0',
    headers: ['Transfer-Encoding: chunked'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    because: /HTTP\/1\.0 request with Transfer-Encoding/,
    upstream: 'nothing',
  },
  {
    name: 'obs-fold of Transfer-Encoding',
    headers: ['Transfer-Encoding:', ' chunked'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    because: /not valid HTTP/,
    upstream: 'nothing',
  },
  {
    name: 'obs-fold of another header',
    headers: ['X-Folded: a', ' b', 'Content-Length: 3'],
    body: 'abc',
    because: /not valid HTTP/,
    upstream: 'nothing',
  },
  {
    name: 'whitespace before the colon of Transfer-Encoding',
    headers: ['Transfer-Encoding : chunked'],
    body: '3\r\nabc\r\n0\r\n\r\n',
    because: /not valid HTTP/,
    upstream: 'nothing',
  },
  {
    name: 'a bare LF ending a header line',
    headers: ['X-A: 1\nContent-Length: 3'],
    body: 'abc',
    because: /not valid HTTP/,
    upstream: 'nothing',
  },
  {
    name: 'a bare CR inside a header line',
    headers: ['X-A: 1\rContent-Length: 3'],
    body: 'abc',
    because: /not valid HTTP/,
    upstream: 'nothing',
  },
  {
    name: 'a bare LF after a chunk size',
    headers: ['Transfer-Encoding: chunked'],
    body: `3\nabc\r\n0\r\n\r\n`,
    because: /not valid HTTP/,
    upstream: 'incomplete',
  },
  {
    name: 'a bare LF after a chunk extension',
    headers: ['Transfer-Encoding: chunked'],
    body: `3;x\nabc\r\n0\r\n\r\n`,
    because: /not valid HTTP/,
    upstream: 'incomplete',
  },
  {
    name: 'a bare LF after chunk data',
    headers: ['Transfer-Encoding: chunked'],
    body: `3\r\nabc\n0\r\n\r\n${SMUGGLED}`,
    because: /not valid HTTP/,
    upstream: 'incomplete',
  },
  {
    name: 'a chunk size in hex notation (0x)',
    headers: ['Transfer-Encoding: chunked'],
    body: `0x3\r\nabc\r\n0\r\n\r\n`,
    because: /not valid HTTP/,
    upstream: 'incomplete',
  },
  {
    name: 'a second Host header',
    headers: [`Host: other.test`, 'Content-Length: 3'],
    body: 'abc',
    because: /Host/,
    upstream: 'nothing',
  },
];

describe.each(TRANSPORTS)('request framing over $name', (transport) => {
  it.each(FORWARDED)('forwards $name with framing Warren wrote, byte for byte', async (attack) => {
    const setup = await setUp(transport);
    const client = await setup.connect();
    const reader = responseReader(client);
    client.write(
      message([setup.requestLine('POST', '/submit'), setup.hostLine, ...attack.headers], attack.body),
    );
    const [first] = await reader.responses(1);
    expect(first!.status).toBe(200);
    // The same client connection carries a second request: neither side lost its place.
    client.write(message([setup.requestLine('GET', '/after'), setup.hostLine]));
    const responses = await reader.responses(2);
    expect(responses.map((response) => response.body.toString())).toEqual([
      'ok POST /submit',
      'ok GET /after',
    ]);
    const expected =
      message(['POST /submit HTTP/1.1', setup.hostLine, ...attack.forwarded.headers], attack.forwarded.body) +
      message(['GET /after HTTP/1.1', setup.hostLine]);
    expect(setup.upstream.receivedText()).toBe(expected);
    expect(setup.upstream.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /submit',
      'GET /after',
    ]);
    const flows = await setup.harness.waitForFlows(2);
    expect(flows.map((flow) => [flow.method, flow.response?.status])).toEqual([
      ['POST', 200],
      ['GET', 200],
    ]);
  });

  it.each(REFUSED)('refuses $name with 400, records it, forwards nothing', async (attack) => {
    const setup = await setUp(transport);
    const client = await setup.connect();
    const reader = responseReader(client);
    const requestLine = setup.requestLine('POST', '/submit', attack.version);
    client.write(message([requestLine, setup.hostLine, ...attack.headers], attack.body));
    const [response] = await reader.responses(1);
    expect(response!.status).toBe(400);
    expect(response!.body.toString()).toMatch(attack.because);
    // Ambiguous framing leaves the connection in an unknown place: it is closed, not reused.
    await reader.responses(2);
    expect(reader.closed()).toBe(true);
    const flows = await settled(setup, 1);
    const refused = flows.filter((flow) => flow.response?.status === 400);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.policy.decision).toBe('deny');
    expect(refused[0]!.policy.reason).toMatch(attack.because);
    expect(setup.upstream.requests).toEqual([]);
    if (attack.upstream === 'nothing') expect(setup.upstream.receivedText()).toBe('');
    else expect(setup.upstream.receivedText()).not.toContain('GET /admin');
  });
});

describe.each(TRANSPORTS)('upgrade framing over $name', (transport) => {
  it('refuses an upgrade request that carries a body (it would reach the upstream as frames)', async () => {
    const setup = await setUp(transport);
    const client = await setup.connect();
    const reader = responseReader(client);
    client.write(
      message(
        [
          setup.requestLine('GET', '/ws'),
          setup.hostLine,
          'Upgrade: websocket',
          'Connection: Upgrade',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
          `Content-Length: ${SMUGGLED.length}`,
        ],
        SMUGGLED,
      ),
    );
    const [response] = await reader.responses(1);
    expect(response!.status).toBe(400);
    expect(response!.body.toString()).toContain('an upgrade request with a body');
    const [flow] = await settled(setup, 1);
    expect(flow).toMatchObject({ policy: { decision: 'deny' }, response: { status: 400 } });
    expect(setup.upstream.receivedText()).toBe('');
  });
});

interface ResponseCase {
  name: string;
  answer: string;
  because: RegExp;
}

const BAD_RESPONSES: ResponseCase[] = [
  {
    name: 'Content-Length and Transfer-Encoding',
    answer:
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    because: /Content-Length and Transfer-Encoding/,
  },
  {
    name: 'Transfer-Encoding and Content-Length',
    answer:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    because: /Content-Length and Transfer-Encoding/,
  },
  {
    name: 'two different Content-Length values',
    answer: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    because: /Content-Length/,
  },
  {
    name: 'a chunk size that is not hex',
    answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    because: /chunk size/,
  },
  {
    name: 'a chunk size in 0x notation',
    answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n',
    because: /chunk size/,
  },
  {
    name: 'a negative chunk size',
    answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n',
    because: /chunk size/,
  },
  {
    name: 'a bare LF after a chunk size',
    answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
    because: /chunk size/,
  },
  {
    name: 'a folded header',
    answer: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 5\r\n\r\nhello',
    because: /header/,
  },
  {
    name: 'a bare LF inside the head',
    answer: 'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 99\r\nContent-Length: 5\r\n\r\nhello',
    because: /header/,
  },
  {
    name: 'Transfer-Encoding: gzip, chunked',
    answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    because: /Transfer-Encoding/,
  },
];

const GOOD_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood';

describe.each(TRANSPORTS)('response framing over $name', (transport) => {
  it.each(BAD_RESPONSES)(
    'answers an upstream response with $name with 502, records it, and the client connection stays in step',
    async (bad) => {
      const setup = await setUp(transport, { script: (index) => (index === 0 ? bad.answer : GOOD_ANSWER) });
      const client = await setup.connect();
      const reader = responseReader(client);
      client.write(message([setup.requestLine('GET', '/bad'), setup.hostLine]));
      const [refused] = await reader.responses(1);
      expect(refused!.status).toBe(502);
      expect(refused!.body.toString()).toMatch(bad.because);
      client.write(message([setup.requestLine('GET', '/next'), setup.hostLine]));
      const responses = await reader.responses(2);
      expect(responses.map((response) => [response.status, response.body.toString()])).toEqual([
        [502, refused!.body.toString()],
        [200, 'good'],
      ]);
      expect(reader.text()).not.toContain('hello');
      const flows = await setup.harness.waitForFlows(2);
      expect(flows[0]!.response?.status).toBe(502);
      expect(flows[0]!.error).toMatch(bad.because);
      expect(flows[1]!.response?.status).toBe(200);
    },
  );

  it('re-frames a response whose Connection header names Content-Length', async () => {
    const setup = await setUp(transport, {
      script: (index) =>
        index === 0
          ? 'HTTP/1.1 200 OK\r\nConnection: content-length, keep-alive\r\nContent-Length: 5\r\n\r\nhello'
          : GOOD_ANSWER,
    });
    const client = await setup.connect();
    const reader = responseReader(client);
    client.write(message([setup.requestLine('GET', '/one'), setup.hostLine]));
    await reader.responses(1);
    client.write(message([setup.requestLine('GET', '/two'), setup.hostLine]));
    const responses = await reader.responses(2);
    expect(responses.map((response) => [response.status, response.body.toString()])).toEqual([
      [200, 'hello'],
      [200, 'good'],
    ]);
    expect(responses[0]!.head).toMatch(/\r\nContent-Length: 5(\r\n|$)/i);
  });

  it('never hands the client a second response the upstream smuggled after the first', async () => {
    const smuggled = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled';
    const setup = await setUp(transport, {
      script: (index) =>
        index === 0 ? `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello${smuggled}` : GOOD_ANSWER,
    });
    const client = await setup.connect();
    const reader = responseReader(client);
    client.write(message([setup.requestLine('GET', '/one'), setup.hostLine]));
    await reader.responses(1);
    client.write(message([setup.requestLine('GET', '/two'), setup.hostLine]));
    const responses = await reader.responses(2);
    expect(responses.map((response) => response.body.toString())).toEqual(['hello', 'good']);
    expect(reader.text()).not.toContain('smuggled');
  });
});

describe.each(TRANSPORTS)('secret swap over $name', (transport) => {
  it('never lets a smuggled request carry the real secret to the upstream unrecorded', async () => {
    const secret = 'real-secret-value-0123456789';
    const swap = createSecretSwap([
      { name: 'API_TOKEN', value: secret, hosts: [HOST], how: 'header', username: '' },
    ]);
    const setup = await setUp(transport, { harness: { hooks: [swap.hook] } });
    const placeholder = swap.placeholders.API_TOKEN!;
    // What the second request looks like upstream once the secret is in: the smuggled request's body
    // would swallow exactly that, and /echo would hand it back as the answer to the second request.
    const swapped = `GET /b HTTP/1.1\r\n${setup.hostLine}\r\nAuthorization: Bearer ${secret}\r\n`;
    const smuggled = `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${swapped.length}\r\n\r\n`;
    const client = await setup.connect();
    const reader = responseReader(client);
    client.write(
      message(
        [
          setup.requestLine('POST', '/a'),
          setup.hostLine,
          'Connection: content-length',
          `Content-Length: ${smuggled.length}`,
        ],
        smuggled,
      ),
    );
    await reader.responses(1);
    client.write(
      message([setup.requestLine('GET', '/b'), setup.hostLine, `Authorization: Bearer ${placeholder}`]),
    );
    const responses = await reader.responses(2);
    expect(reader.text()).not.toContain(secret);
    expect(responses.map((response) => response.body.toString())).toEqual(['ok POST /a', 'ok GET /b']);
    const flows = await setup.harness.waitForFlows(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Every request the upstream acted on is a recorded flow, and only the recorded one carried the secret.
    const acted = setup.upstream.requests.map((request) => `${request.method} ${request.url}`);
    expect(acted).toEqual(flows.map((flow) => `${flow.method} ${new URL(flow.url).pathname}`));
    const withSecret = setup.upstream.requests.filter((request) =>
      `${request.rawHeaders.join('\n')}\n${request.body.toString('latin1')}`.includes(secret),
    );
    expect(withSecret.map((request) => request.url)).toEqual(['/b']);
    expect(JSON.stringify(flows)).not.toContain(secret);
  });
});
