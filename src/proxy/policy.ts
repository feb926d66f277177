import { WarrenError } from '../errors/index.js';
import {
  cidrContains,
  formatIp,
  parseCidr,
  parseIp,
  sameAddress,
  specialHostnameKind,
  specialRangeOf,
  type AddressBytes,
  type Cidr,
} from './addresses.js';

/**
 * Host policy: rules are data, each able to explain itself. Deny by default; deny wins over allow;
 * loopback, private, link-local and metadata destinations need a rule that names the exact host or IP.
 * Everything here is pure: the proxy resolves names and passes the addresses in.
 */

export interface HostRule {
  action: 'allow' | 'deny';
  /** `host`, `*.domain`, an IPv4/IPv6 literal or a CIDR, each with an optional `:port` (`[v6]:port`). */
  pattern: string;
  reason?: string;
}

type Matcher =
  | { kind: 'exact'; hostname: string }
  | { kind: 'wildcard'; suffix: string }
  | { kind: 'ip'; address: AddressBytes }
  | { kind: 'cidr'; cidr: Cidr };

export interface CompiledRule extends HostRule {
  matcher: Matcher;
  /** undefined: any port. */
  port: number | undefined;
}

/** A compiled, immutable policy. An empty rule list denies everything. */
export interface HostPolicy {
  readonly rules: readonly CompiledRule[];
  /** One line per rule, as shown in the UI and logs; the last line states the default. */
  explain(): string[];
}

export interface PolicyDecision {
  decision: 'allow' | 'deny';
  /** The deciding rule as written (`--allow *.github.com`), or undefined for the default. */
  rule?: string;
  /** One sentence, shown in the UI, the logs and the body of a refusal. */
  reason: string;
}

/**
 * Suffixes under which anyone can register names: `*.<suffix>` would allow the whole internet there.
 * Not the full Public Suffix List; the common multi-label ones, plus every single-label TLD by shape.
 */
const MULTI_LABEL_PUBLIC_SUFFIXES: ReadonlySet<string> = new Set(
  [
    'co.uk org.uk ac.uk gov.uk me.uk net.uk com.au net.au org.au edu.au co.jp ne.jp or.jp co.nz',
    'com.br com.cn net.cn org.cn co.in net.in org.in co.kr com.mx co.za com.tr com.tw com.hk com.sg',
    'com.ar com.co com.my com.ph com.pk com.ua com.vn co.id co.il co.th github.io herokuapp.com',
    'vercel.app netlify.app pages.dev workers.dev appspot.com cloudfront.net amazonaws.com azurewebsites.net',
  ]
    .join(' ')
    .split(' '),
);

const HOSTNAME_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower-cases, drops brackets and a trailing dot. */
export function normalizeHost(host: string): string {
  let normalized = host.trim().toLowerCase();
  if (normalized.startsWith('[') && normalized.endsWith(']')) normalized = normalized.slice(1, -1);
  if (normalized.endsWith('.')) normalized = normalized.slice(0, -1);
  return normalized;
}

function isValidHostname(hostname: string): boolean {
  return (
    hostname.length > 0 &&
    hostname.length <= 253 &&
    hostname.split('.').every((label) => HOSTNAME_LABEL.test(label))
  );
}

function invalid(pattern: string, problem: string): WarrenError {
  return new WarrenError('invalid-argument', `Invalid host rule "${pattern}": ${problem}.`, {
    hint: 'Use host, *.domain, an IP address or a CIDR, each with an optional :port (IPv6 with a port: [::1]:443).',
  });
}

function parsePort(pattern: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw invalid(pattern, `port "${text}" is not a number from 1 to 65535`);
  }
  return Number(text);
}

function splitPort(pattern: string): { host: string; port: number | undefined } {
  if (pattern.startsWith('[')) {
    const close = pattern.indexOf(']');
    if (close < 0) throw invalid(pattern, 'missing "]"');
    const rest = pattern.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw invalid(pattern, `unexpected "${rest}" after "]"`);
    return {
      host: pattern.slice(1, close),
      port: rest === '' ? undefined : parsePort(pattern, rest.slice(1)),
    };
  }
  const colons = pattern.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = pattern.split(':') as [string, string];
    return { host, port: parsePort(pattern, port) };
  }
  // Two or more colons: a bare IPv6 literal or CIDR, which cannot carry a port without brackets.
  return { host: pattern, port: undefined };
}

function compileMatcher(pattern: string, action: HostRule['action'], host: string): Matcher {
  if (host === '') throw invalid(pattern, 'no host');
  if (host.includes('/')) {
    const cidr = parseCidr(host);
    if (!cidr) throw invalid(pattern, 'not a valid CIDR (like 10.0.0.0/8 or fd00::/8)');
    if (cidr.prefixLength === 0 && action === 'allow') {
      throw invalid(pattern, 'a /0 range allows every address; name the hosts to allow instead');
    }
    return { kind: 'cidr', cidr };
  }
  const address = parseIp(host);
  if (address) return { kind: 'ip', address };
  if (host.includes('*')) {
    if (host === '*') throw invalid(pattern, '"*" would allow every host; name the hosts to allow instead');
    if (!host.startsWith('*.') || host.slice(2).includes('*')) {
      throw invalid(pattern, 'a wildcard must be the whole first label, as in *.example.com');
    }
    const suffix = host.slice(2);
    if (!isValidHostname(suffix)) throw invalid(pattern, `"${suffix}" is not a valid domain name`);
    if (!suffix.includes('.') || MULTI_LABEL_PUBLIC_SUFFIXES.has(suffix)) {
      throw invalid(
        pattern,
        `"${suffix}" is a public suffix, so *.${suffix} would match unrelated owners' hosts`,
      );
    }
    return { kind: 'wildcard', suffix };
  }
  if (!isValidHostname(host)) throw invalid(pattern, `"${host}" is not a valid host name`);
  return { kind: 'exact', hostname: host };
}

/** Parses and validates one rule; throws WarrenError (invalid-argument) with the problem spelled out. */
export function compileRule(rule: HostRule): CompiledRule {
  const pattern = rule.pattern.trim();
  const { host, port } = splitPort(pattern.toLowerCase());
  const matcher = compileMatcher(pattern, rule.action, normalizeHost(host));
  return { ...rule, pattern, matcher, port };
}

export function compilePolicy(rules: readonly HostRule[]): HostPolicy {
  const compiled = rules.map(compileRule);
  return {
    rules: compiled,
    explain: () => [
      ...compiled.map(explainRule),
      'anything else: denied (loopback, private, link-local and metadata addresses need a rule naming them exactly)',
    ],
  };
}

/** The `--allow RULE` / `--deny RULE` strings of the command line, in that order. */
export function policyFromArguments(lists: {
  allow?: readonly string[];
  deny?: readonly string[];
}): HostPolicy {
  return compilePolicy([
    ...(lists.allow ?? []).map((pattern): HostRule => ({ action: 'allow', pattern })),
    ...(lists.deny ?? []).map((pattern): HostRule => ({ action: 'deny', pattern })),
  ]);
}

/** How the rule reads in the UI and logs: `--allow *.github.com (subdomains of github.com, any port)`. */
export function explainRule(rule: CompiledRule): string {
  const port = rule.port === undefined ? 'any port' : `port ${rule.port}`;
  const matcher = rule.matcher;
  let what: string;
  switch (matcher.kind) {
    case 'exact':
      what = `the host ${matcher.hostname}`;
      break;
    case 'wildcard':
      what = `subdomains of ${matcher.suffix} (not ${matcher.suffix} itself)`;
      break;
    case 'ip':
      what = `the address ${formatIp(matcher.address)}`;
      break;
    case 'cidr':
      what = `addresses in ${formatIp(matcher.cidr.bytes)}/${matcher.cidr.prefixLength}`;
      break;
  }
  const because = rule.reason ? `: ${rule.reason}` : '';
  return `--${rule.action} ${rule.pattern} (${what}, ${port})${because}`;
}

function portMatches(rule: CompiledRule, port: number): boolean {
  return rule.port === undefined || rule.port === port;
}

function nameMatches(rule: CompiledRule, hostname: string): boolean {
  const matcher = rule.matcher;
  if (matcher.kind === 'exact') return matcher.hostname === hostname;
  if (matcher.kind === 'wildcard') return hostname.endsWith(`.${matcher.suffix}`);
  return false;
}

function addressMatches(rule: CompiledRule, address: AddressBytes): boolean {
  const matcher = rule.matcher;
  if (matcher.kind === 'ip') return sameAddress(matcher.address, address);
  if (matcher.kind === 'cidr') return cidrContains(matcher.cidr, address);
  return false;
}

/** A rule grants special (loopback, private…) destinations only when it names them exactly. */
function namesExactly(rule: CompiledRule, hostname: string, address: AddressBytes | undefined): boolean {
  if (rule.matcher.kind === 'exact') return rule.matcher.hostname === hostname;
  if (rule.matcher.kind === 'ip') return address !== undefined && sameAddress(rule.matcher.address, address);
  return false;
}

function ruleLabel(rule: CompiledRule): string {
  return `--${rule.action} ${rule.pattern}`;
}

function denyByRule(rule: CompiledRule, what: string): PolicyDecision {
  const because = rule.reason ? ` (${rule.reason})` : '';
  return {
    decision: 'deny',
    rule: ruleLabel(rule),
    reason: `the rule ${ruleLabel(rule)} matches ${what}${because}`,
  };
}

function denyByDefault(target: string): PolicyDecision {
  return { decision: 'deny', reason: `no --allow rule matches ${target}, and Warren denies by default` };
}

/**
 * The decision that can be made from the name alone, before any DNS lookup: a deny, or 'resolve'
 * when the answer depends on the addresses (so refused names are never even looked up).
 */
export function decideByName(policy: HostPolicy, host: string, port: number): PolicyDecision | 'resolve' {
  try {
    const hostname = normalizeHost(host);
    const target = `${hostname}:${port}`;
    for (const rule of policy.rules) {
      if (rule.action === 'deny' && portMatches(rule, port) && nameMatches(rule, hostname)) {
        return denyByRule(rule, target);
      }
    }
    const couldAllow = policy.rules.some(
      (rule) =>
        rule.action === 'allow' &&
        portMatches(rule, port) &&
        (nameMatches(rule, hostname) || rule.matcher.kind === 'ip' || rule.matcher.kind === 'cidr'),
    );
    return couldAllow ? 'resolve' : denyByDefault(target);
  } catch (error) {
    return { decision: 'deny', reason: `deciding failed (${String(error)}), so Warren refuses` };
  }
}

/**
 * The full decision for `host:port` whose name resolved to `addresses` (for an IP literal, pass the literal).
 * Every address must be allowed; an empty list denies.
 */
export function decide(
  policy: HostPolicy,
  host: string,
  port: number,
  addresses: readonly string[],
): PolicyDecision {
  try {
    return decideOrThrow(policy, normalizeHost(host), port, addresses);
  } catch (error) {
    return { decision: 'deny', reason: `deciding failed (${String(error)}), so Warren refuses` };
  }
}

function decideOrThrow(
  policy: HostPolicy,
  hostname: string,
  port: number,
  addressTexts: readonly string[],
): PolicyDecision {
  const target = `${hostname}:${port}`;
  if (addressTexts.length === 0)
    return { decision: 'deny', reason: `${hostname} did not resolve to any address` };
  const addresses = addressTexts.map((text) => {
    const bytes = parseIp(text);
    if (!bytes) throw new Error(`"${text}" is not an IP address`);
    return bytes;
  });
  const isLiteral = parseIp(hostname) !== undefined;
  const applicable = policy.rules.filter((rule) => portMatches(rule, port));

  for (const rule of applicable) {
    if (rule.action !== 'deny') continue;
    if (nameMatches(rule, hostname)) return denyByRule(rule, target);
    const address = addresses.find((candidate) => addressMatches(rule, candidate));
    if (address) return denyByRule(rule, isLiteral ? target : `${target} (resolved to ${formatIp(address)})`);
  }

  const allows = applicable.filter((rule) => rule.action === 'allow');
  const byName = allows.find((rule) => nameMatches(rule, hostname));
  let deciding: CompiledRule | undefined;
  for (const address of addresses) {
    const rule = byName ?? allows.find((candidate) => addressMatches(candidate, address));
    if (!rule) return denyByDefault(isLiteral ? target : `${target} (resolved to ${formatIp(address)})`);
    const special = specialRangeOf(address) ?? specialHostnameKind(hostname);
    if (special) {
      const exact = allows.find((candidate) => namesExactly(candidate, hostname, address));
      if (!exact) {
        const resolved = isLiteral ? `${hostname} is` : `${hostname} resolves to ${formatIp(address)},`;
        return {
          decision: 'deny',
          rule: ruleLabel(rule),
          reason:
            `${resolved} a ${special} address, and only a rule naming ${hostname} exactly ` +
            `(not a wildcard or a CIDR like ${ruleLabel(rule)}) can allow it`,
        };
      }
      deciding ??= exact;
    }
    deciding ??= rule;
  }
  const rule = deciding!;
  const because = rule.reason ? ` (${rule.reason})` : '';
  return {
    decision: 'allow',
    rule: ruleLabel(rule),
    reason: `the rule ${ruleLabel(rule)} allows ${target}${because}`,
  };
}

/** The text that tells the agent what the user can do about a refusal. */
export function suggestRemedy(decision: PolicyDecision, host: string): string {
  if (decision.rule?.startsWith('--deny ')) return `the user can remove the rule ${decision.rule}`;
  return `the user can add --allow ${normalizeHost(host)}`;
}
