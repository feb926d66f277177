import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { formatIp, parseIp } from './addresses.js';
import { decide, decideByName, type HostPolicy, type PolicyDecision } from './policy.js';

/** Same shape as `dns.promises.lookup(hostname, { all: true })`. */
export type LookupFunction = (
  hostname: string,
  options: { all: true },
) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface Authorization {
  decision: PolicyDecision;
  /** The checked address to connect to: the proxy never looks the name up a second time. */
  address?: string;
  /** Set when the name could not be resolved: answered 502, not 403. */
  resolveFailure?: string;
  dnsMs: number;
}

/** The decision for an IP literal, which needs no DNS (and no promise on the hot path); undefined for names. */
export function authorizeLiteral(policy: HostPolicy, host: string, port: number): Authorization | undefined {
  const literal = parseIp(host);
  if (!literal) return undefined;
  const decision = decide(policy, host, port, [host]);
  return { decision, address: decision.decision === 'allow' ? formatIp(literal) : undefined, dnsMs: -1 };
}

/** Decides `host:port` for a session: name rules first (no DNS for refused names), then the resolved addresses. */
export async function authorize(
  policy: HostPolicy,
  host: string,
  port: number,
  lookup: LookupFunction,
): Promise<Authorization> {
  const literal = authorizeLiteral(policy, host, port);
  if (literal) return literal;
  const early = decideByName(policy, host, port);
  if (early !== 'resolve') return { decision: early, dnsMs: -1 };
  const started = performance.now();
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const resolveFailure = `the name ${host} could not be resolved (${code})`;
    return {
      decision: { decision: 'deny', reason: `${resolveFailure}, so Warren refuses` },
      resolveFailure,
      dnsMs: -1,
    };
  }
  const decision = decide(policy, host, port, addresses);
  const address = decision.decision === 'allow' ? addresses[0] : undefined;
  return { decision, address, dnsMs: performance.now() - started };
}

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

function readBundle(path: string | undefined): string[] {
  if (!path || !existsSync(path)) return [];
  try {
    return [readFileSync(path, 'utf8')];
  } catch {
    return [];
  }
}

/**
 * What upstream certificates are verified against: Node's roots, the system bundle, NODE_EXTRA_CA_CERTS
 * and `extraTrust` (PEM texts). Built once per proxy: a secure context with ~150 roots is not cheap.
 */
export function createUpstreamTrust(extraTrust: readonly string[], env: NodeJS.ProcessEnv): SecureContext {
  const systemBundle =
    SYSTEM_BUNDLES.map((path) => readBundle(path)).find((bundle) => bundle.length > 0) ?? [];
  const ca = [...rootCertificates, ...systemBundle, ...readBundle(env.NODE_EXTRA_CA_CERTS), ...extraTrust];
  return createSecureContext({ ca });
}

/** Copies Node's rawHeaders minus hop-by-hop ones (and those the Connection header names). */
export function endToEndHeaders(rawHeaders: readonly string[], keepUpgrade: boolean): string[] {
  let connectionNamed: Set<string> | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === 'connection') {
      connectionNamed ??= new Set();
      for (const token of rawHeaders[index + 1]!.split(',')) connectionNamed.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const lower = rawHeaders[index]!.toLowerCase();
    const isUpgradeHeader = lower === 'upgrade' || lower === 'connection';
    if (keepUpgrade && isUpgradeHeader) {
      kept.push(rawHeaders[index]!, rawHeaders[index + 1]!);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || (connectionNamed?.has(lower) ?? false)) continue;
    kept.push(rawHeaders[index]!, rawHeaders[index + 1]!);
  }
  return kept;
}

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
