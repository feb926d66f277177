import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { policyFromArguments } from '../src/proxy/index.js';
import {
  echoHandler,
  readWebsocketFrame,
  startHttpUpstream,
  startHttpsUpstream,
  websocketFrame,
  type FakeUpstream,
} from './helpers/upstream.js';
import { startProxyHarness, type ProxyHarness } from './helpers/upstream-proxy-harness.js';

/** CONNECT, TLS interception with real clients (curl, Node), WebSocket, key log, unix socket + bwrap. */

const run = promisify(execFile);

let harness: ProxyHarness | undefined;
let upstream: FakeUpstream | undefined;

afterEach(async () => {
  await harness?.close();
  await upstream?.close();
  harness = undefined;
  upstream = undefined;
});

async function requireTool(tool: string, debianPackage: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    if (process.env.WARREN_ALLOW_SKIP === '1') return false;
    throw new Error(
      `${tool} is missing: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`,
    );
  }
}

/** Sends CONNECT and resolves with the socket and the proxy's answer head once it arrives. */
function openTunnel(proxyPort: number, target: string): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1', () =>
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
    );
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      socket.pause();
      resolve({ socket, head: received });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** Reads from a socket until `until` matches or it ends. */
function readUntil(socket: Socket | TLSSocket, until: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (until.test(received)) resolve(received);
    });
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.resume();
  });
}

function secureTunnel(socket: Socket, servername: string, ca: string, verify = true): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect(
      { socket, servername, ca, rejectUnauthorized: verify, ALPNProtocols: ['h2', 'http/1.1'] },
      () => resolve(tls),
    );
    tls.on('error', reject);
  });
}

describe('egress proxy with CONNECT and TLS interception', () => {
  it("intercepts HTTPS for curl trusting Warren's CA with --cacert (no -k) and records TLS facts", async () => {
    await requireTool('curl', 'curl');
    harness = await startProxyHarness({ allow: ['api.test'] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler('secret data'));
    const { stdout } = await run('curl', [
      '-sS',
      '--proxy',
      `http://127.0.0.1:${harness.port}`,
      '--cacert',
      harness.ca.certificatePath,
      '-H',
      'Authorization: Bearer sk-test',
      `https://api.test:${upstream.port}/hello`,
    ]);
    expect(stdout).toBe('secret data');
    expect(upstream.seen[0]!.headers.authorization).toBe('Bearer sk-test');
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({
      method: 'GET',
      url: `https://api.test:${upstream.port}/hello`,
      scheme: 'https',
      policy: { decision: 'allow', rule: '--allow api.test' },
      tls: { mode: 'intercepted', sni: 'api.test', alpn: 'http/1.1', upstreamProtocol: 'TLS' },
      response: { status: 200 },
    });
    expect(flow!.request.headers).toContainEqual(['Authorization', '[redacted]']);
  });

  it('works for Node https trusting the CA, and writes NSS key log lines for both TLS legs', async () => {
    harness = await startProxyHarness({ allow: ['api.test'] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler('node says hi'));
    const { socket, head } = await openTunnel(harness.port, `api.test:${upstream.port}`);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest(
        {
          host: 'api.test',
          port: upstream!.port,
          path: '/node',
          ca: harness!.ca.certificatePem,
          createConnection: () =>
            tlsConnect({ socket, servername: 'api.test', ca: harness!.ca.certificatePem }),
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(body).toBe('node says hi');
    await harness.waitForFlows(1);
    const lines = harness.keylog.map((line) => line.toString());
    const nss =
      /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}\n?$/;
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) expect(line).toMatch(nss);
    expect(lines.some((line) => line.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '))).toBe(true);
    // Two handshakes (client side, upstream side): two client randoms.
    const randoms = new Set(lines.map((line) => line.split(' ')[1]));
    expect(randoms.size).toBe(2);
    socket.destroy();
  });

  it("records a client that refuses Warren's certificate, with a hint about the CA", async () => {
    await requireTool('curl', 'curl');
    harness = await startProxyHarness({ allow: ['api.test'] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler());
    const failed = await run('curl', [
      '-sS',
      '--proxy',
      `http://127.0.0.1:${harness.port}`,
      `https://api.test:${upstream.port}/`,
    ]).then(
      () => false,
      () => true,
    );
    expect(failed).toBe(true);
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({ method: 'CONNECT', host: 'api.test', tls: { mode: 'intercepted' } });
    expect(flow!.error).toContain(`does the client trust Warren's CA (${harness.ca.certificatePath})?`);
    expect(upstream.seen).toHaveLength(0);
  });

  it('answers a refused CONNECT with 403 and the policy header, and records it', async () => {
    harness = await startProxyHarness({ allow: ['api.test'] });
    const { socket, head } = await openTunnel(harness.port, 'evil.test:443');
    const rest = await readUntil(socket, /To allow it/);
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(head).toContain('X-Warren-Policy: default');
    expect(head + rest).toContain(
      'Warren refused CONNECT evil.test:443 because no --allow rule matches evil.test:443',
    );
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({
      method: 'CONNECT',
      host: 'evil.test',
      port: 443,
      policy: { decision: 'deny' },
    });
  });

  it('refuses a request whose Host header differs from the CONNECT target', async () => {
    harness = await startProxyHarness({ allow: ['api.test', 'other.test'] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler());
    const { socket } = await openTunnel(harness.port, `api.test:${upstream.port}`);
    const tls = await secureTunnel(socket, 'api.test', harness.ca.certificatePem);
    tls.write(`GET / HTTP/1.1\r\nHost: other.test:${upstream.port}\r\n\r\n`);
    const answer = await readUntil(tls, /To allow it.*\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(answer).toContain(`the Host header "other.test:${upstream.port}" differs from the destination`);
    expect(upstream.seen).toHaveLength(0);
    tls.destroy();
  });

  it('refuses a request whose TLS server name differs from the CONNECT target', async () => {
    harness = await startProxyHarness({ allow: ['api.test', 'other.test'] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler());
    const { socket } = await openTunnel(harness.port, `api.test:${upstream.port}`);
    const tls = await secureTunnel(socket, 'other.test', harness.ca.certificatePem, false);
    tls.write(`GET / HTTP/1.1\r\nHost: api.test:${upstream.port}\r\n\r\n`);
    const answer = await readUntil(tls, /To allow it.*\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden[\s\S]*the TLS server name "other.test" differs/);
    expect(upstream.seen).toHaveLength(0);
    tls.destroy();
  });

  it('parses plain HTTP inside a CONNECT tunnel and refuses other protocols', async () => {
    upstream = await startHttpUpstream(echoHandler('plain inside'));
    harness = await startProxyHarness({ allow: ['api.test'] });
    const plain = await openTunnel(harness.port, `api.test:${upstream.port}`);
    plain.socket.write(`GET /inside HTTP/1.1\r\nHost: api.test:${upstream.port}\r\n\r\n`);
    expect(await readUntil(plain.socket, /plain inside/)).toMatch(/^HTTP\/1\.1 200 OK/);
    plain.socket.destroy();
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({ url: `http://api.test:${upstream.port}/inside`, tls: { mode: 'none' } });

    const other = await openTunnel(harness.port, `api.test:${upstream.port}`);
    other.socket.write(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff]));
    expect(await readUntil(other.socket, /cannot pass/)).toContain('the client spoke neither TLS nor HTTP');
    const flows = await harness.waitForFlows(2);
    expect(flows[1]).toMatchObject({ method: 'CONNECT', policy: { decision: 'deny' } });
    expect(upstream.seen.map((seen) => seen.url)).toEqual(['/inside']);
  });

  it('looks a CONNECT target up once and keeps the checked address for the whole tunnel', async () => {
    const asked: string[] = [];
    harness = await startProxyHarness({
      allow: ['api.test'],
      lookup: async (hostname) => {
        asked.push(hostname);
        // A resolver whose answer changes: later answers point where nothing listens (still loopback, so
        // even a regression sends nothing off this machine).
        return [{ address: asked.length === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
      },
    });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler('same address'));
    const { socket } = await openTunnel(harness.port, `api.test:${upstream.port}`);
    const tls = await secureTunnel(socket, 'api.test', harness.ca.certificatePem);
    const host = `api.test:${upstream.port}`;
    tls.write(`GET /1 HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /2 HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const answers = await readUntil(tls, /same address[\s\S]*same address/);
    expect(answers.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(asked).toEqual(['api.test']);
    tls.destroy();
  });

  it('closes a tunnel in which the client stays silent, and records it', async () => {
    harness = await startProxyHarness({ allow: ['api.test'], tunnelFirstByteTimeoutMs: 200 });
    const { socket } = await openTunnel(harness.port, 'api.test:443');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.resume();
    await closed;
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({ method: 'CONNECT', host: 'api.test', port: 443 });
    expect(flow!.error).toBe('the client sent nothing inside the tunnel for 0.2 s');
  });

  it('reports an upstream certificate it cannot verify as 502', async () => {
    harness = await startProxyHarness({ allow: ['api.test'], extraTrust: [] });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler());
    const { socket } = await openTunnel(harness.port, `api.test:${upstream.port}`);
    const tls = await secureTunnel(socket, 'api.test', harness.ca.certificatePem);
    tls.write(`GET / HTTP/1.1\r\nHost: api.test:${upstream.port}\r\n\r\n`);
    const answer = await readUntil(tls, /upstream\.\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway[\s\S]*the upstream TLS certificate is not trusted/);
    tls.destroy();
  });

  it('passes WebSocket upgrades through (plain and inside CONNECT+TLS) and records the handshakes', async () => {
    harness = await startProxyHarness({ allow: ['api.test'] });
    const plainUpstream = await startHttpUpstream(echoHandler(), { websockets: true });
    upstream = await startHttpsUpstream(harness.upstreamCa, echoHandler(), { websockets: true });
    const upgrade = (target: string, host: string): string =>
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const exchange = async (socket: Socket | TLSSocket, request: string): Promise<string> => {
      socket.write(request);
      const head = await readUntil(socket, /\r\n\r\n/);
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      socket.removeAllListeners('data');
      const reply = new Promise<string>((resolve) => {
        let buffered = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          const text = readWebsocketFrame(buffered);
          if (text !== undefined) resolve(text);
        });
      });
      socket.write(websocketFrame('ping', true));
      return reply;
    };
    const plainHost = `api.test:${plainUpstream.port}`;
    const plainSocket = netConnect(harness.port, '127.0.0.1');
    expect(await exchange(plainSocket, upgrade(`http://${plainHost}/ws`, plainHost))).toBe('echo: ping');
    plainSocket.destroy();
    await plainUpstream.close();

    const secureHost = `api.test:${upstream.port}`;
    const { socket } = await openTunnel(harness.port, secureHost);
    const tls = await secureTunnel(socket, 'api.test', harness.ca.certificatePem);
    expect(await exchange(tls, upgrade('/ws', secureHost))).toBe('echo: ping');
    tls.destroy();
    const flows = await harness.waitForFlows(2);
    expect(flows[0]).toMatchObject({ scheme: 'ws', url: `ws://${plainHost}/ws`, response: { status: 101 } });
    expect(flows[1]).toMatchObject({
      scheme: 'wss',
      url: `wss://${secureHost}/ws`,
      response: { status: 101 },
      tls: { mode: 'intercepted', sni: 'api.test' },
    });
  });

  it('routes CONNECT to gateway.warren.internal to the in-process gateway over intercepted TLS', async () => {
    harness = await startProxyHarness({
      gateway: (request, response) => response.end(`gateway got ${request.method} ${request.url}`),
    });
    const { socket } = await openTunnel(harness.port, 'gateway.warren.internal:443');
    const tls = await secureTunnel(socket, 'gateway.warren.internal', harness.ca.certificatePem);
    tls.write('GET /v1/models HTTP/1.1\r\nHost: gateway.warren.internal\r\n\r\n');
    expect(await readUntil(tls, /gateway got GET \/v1\/models/)).toMatch(/^HTTP\/1\.1 200 OK/);
    tls.destroy();
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({
      url: 'https://gateway.warren.internal/v1/models',
      policy: { decision: 'allow', reason: 'Warren model gateway' },
      tls: { mode: 'intercepted' },
    });
  });

  it('serves a session on a unix socket (mode 0600) that a bwrap sandbox user can reach', async () => {
    if (!(await requireTool('bwrap', 'bubblewrap')) || !(await requireTool('curl', 'curl'))) return;
    harness = await startProxyHarness();
    upstream = await startHttpUpstream(echoHandler('through the socket'));
    const socketPath = join(harness.dir, 'proxy.sock');
    const policy = policyFromArguments({ allow: ['api.test'] });
    const listener = await harness.proxy.listen({ path: socketPath }, { id: 'sandboxed', policy });
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const url = `http://api.test:${upstream.port}/from-sandbox`;
    const { stdout } = await run('bwrap', [
      ...['--unshare-all', '--uid', '1000', '--gid', '1000', '--ro-bind', '/usr', '/usr'],
      ...['--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64'],
      ...['--tmpfs', '/run', '--bind', socketPath, '/run/proxy.sock'],
      ...['sh', '-c', `id -u; curl -sS --unix-socket /run/proxy.sock --request-target ${url} ${url}`],
    ]);
    expect(stdout).toBe('1000\nthrough the socket');
    const [flow] = await harness.waitForFlows(1);
    expect(flow).toMatchObject({ sessionId: 'sandboxed', url, response: { status: 200 } });
    await listener.close();
  });
});
