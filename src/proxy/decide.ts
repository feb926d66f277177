import { performance } from 'node:perf_hooks';
import { formatIp, parseIp } from './addresses.js';
import type { ListenerContext } from './context.js';
import type { FlowPolicy } from './flow.js';
import { decide, decideByName, type HostPolicy, type PolicyDecision } from './policy.js';

/**
 * The decision for a destination: the session's host policy applied to the name, then to the addresses it
 * resolves to. policy.ts holds the rules and is pure; this is where DNS and the per-listener cache come in.
 */

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
  /** Set when deciding itself failed (a policy or resolver that threw): a deny, and the flow's error. */
  failure?: string;
  dnsMs: number;
}

/** Anything that throws while deciding denies (fail closed), and says so. */
function failedDecision(error: unknown): Authorization {
  const failure = `deciding failed (${String(error)})`;
  return { decision: { decision: 'deny', reason: failure }, failure, dnsMs: -1 };
}

export function flowPolicyOf(decision: PolicyDecision): FlowPolicy {
  return decision.rule === undefined
    ? { decision: decision.decision, reason: decision.reason }
    : { decision: decision.decision, rule: decision.rule, reason: decision.reason };
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

const LITERAL_CACHE_SIZE = 1024;

/**
 * Decisions for IP literals (no DNS involved) are cached per listener while `session.policy` is the same
 * object: plain-HTTP forwarding to a literal then costs no policy work per request.
 */
function literalAuthorization(
  context: ListenerContext,
  host: string,
  port: number,
): Authorization | undefined {
  const cache = context.literalDecisions;
  const policy = context.session.policy;
  if (cache.policy !== policy) {
    cache.policy = policy;
    cache.entries.clear();
  }
  const key = `${host} ${port}`;
  let entry = cache.entries.get(key);
  if (entry === undefined) {
    entry = authorizeLiteral(policy, host, port) ?? null; // null: a name, decided asynchronously
    if (cache.entries.size >= LITERAL_CACHE_SIZE) cache.entries.clear();
    cache.entries.set(key, entry);
  }
  return entry ?? undefined;
}

/**
 * The decision for `host:port` in this listener's session: at once for IP literals, after DNS for names.
 * It never throws and never rejects: a failure to decide is a deny that carries `failure`.
 */
export function decideDestination(
  context: ListenerContext,
  host: string,
  port: number,
): Authorization | Promise<Authorization> {
  try {
    return (
      literalAuthorization(context, host, port) ??
      authorize(context.session.policy, host, port, context.lookup).catch(failedDecision)
    );
  } catch (error) {
    return failedDecision(error);
  }
}

/**
 * Runs `then` with the decision, at once when there is one, else once DNS answered. `failed` receives
 * anything `then` throws after waiting (a bug), so that it is answered and recorded, never unhandled.
 */
export function withDecision(
  decided: Authorization | Promise<Authorization>,
  then: (authorization: Authorization) => void,
  failed: (error: unknown) => void,
): void {
  if (decided instanceof Promise) decided.then(then).catch(failed);
  else then(decided);
}
