import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createEgressProxy,
  policyFromArguments,
  type CertificateAuthority,
  type EgressProxy,
  type EgressProxyOptions,
  type FlowRecord,
  type ForwardHook,
  type LookupFunction,
  type ProxyListener,
} from '../../src/proxy/index.js';

/**
 * A real egress proxy on a loopback port with an array sink, Warren's CA in a temp folder, and a second
 * "public" test CA for fake HTTPS upstreams (trusted by the proxy through `extraTrust`).
 */

/** Every `*.test` name resolves to 127.0.0.1; anything else does not resolve. */
export const testLookup: LookupFunction = async (hostname) => {
  if (hostname.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

export interface ProxyHarness {
  dir: string;
  ca: CertificateAuthority;
  upstreamCa: CertificateAuthority;
  proxy: EgressProxy;
  listener: ProxyListener;
  port: number;
  flows: FlowRecord[];
  keylog: Buffer[];
  /** Resolves once at least `count` flows were recorded. */
  waitForFlows(count: number, timeoutMs?: number): Promise<FlowRecord[]>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<EgressProxyOptions, 'ca' | 'sink'>> {
  allow?: string[];
  deny?: string[];
  /** Session hooks (secret swap, download cache). */
  hooks?: ForwardHook[];
}

export async function startProxyHarness(options: HarnessOptions = {}): Promise<ProxyHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-proxy-test-'));
  const ca = await createCertificateAuthority({ dir: join(dir, 'ca') });
  const upstreamCa = await createCertificateAuthority({ dir: join(dir, 'upstream-ca') });
  const flows: FlowRecord[] = [];
  const keylog: Buffer[] = [];
  const { allow, deny, hooks, ...proxyOptions } = options;
  const proxy = createEgressProxy({
    lookup: testLookup,
    extraTrust: [upstreamCa.certificatePem],
    ...proxyOptions,
    ca,
    sink: { record: (flow) => flows.push(flow) },
  });
  const policy = policyFromArguments({ allow: allow ?? [], deny: deny ?? [] });
  const listener = await proxy.listen(
    { port: 0 },
    { id: 'session-1', policy, onKeylog: (line) => keylog.push(line), ...(hooks ? { hooks } : {}) },
  );
  return {
    dir,
    ca,
    upstreamCa,
    proxy,
    listener,
    port: listener.address as number,
    flows,
    keylog,
    async waitForFlows(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (flows.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} flows, got ${flows.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return flows;
    },
    async close() {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ProxiedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One absolute-form request through the proxy on `proxyPort` (a fresh connection each time). */
export function proxiedRequest(
  proxyPort: number,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<ProxiedResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: proxyPort,
        method: init.method ?? 'GET',
        path: url,
        headers: init.headers,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}
