import { randomBytes } from 'node:crypto';
import type { HookDecision, HookExchange, ForwardHook } from './hooks.js';
import type { LoadedSecret } from './secrets-definitions.js';

/**
 * The swap itself, one per session: each secret gets a fresh random placeholder, which is all the sandbox ever
 * holds. On an allowed request the hook puts the real value where the placeholder is (any header value, and
 * inside `Authorization: Basic …` credentials); a placeholder bound for a host the secret does not list is
 * refused (403) and the flow says why. The real value exists only in the proxy process and on the wire to the
 * secret's own hosts; flows record the request as the agent sent it, so they hold placeholders, never values.
 *
 * Limits: only traffic the proxy can read is checked (plain HTTP and intercepted HTTPS, not tunnelled TLS or
 * WebSocket frames); request bodies are neither scanned nor rewritten; a placeholder in a URL is refused (it
 * would be swapped into logs and caches along the way).
 */
export interface SecretSwap {
  /** Variables for the sandbox (SandboxSpec.env): each placeholder, and a git credential helper for basic ones. */
  environment: Record<string, string>;
  hook: ForwardHook;
  /** Placeholder by secret name, for tests and diagnostics. */
  placeholders: Record<string, string>;
}

function hostMatches(pattern: string, host: string, port: number): boolean {
  const [name = '', patternPort] = pattern.split(':');
  if (patternPort !== undefined && Number(patternPort) !== port) return false;
  const lower = host.toLowerCase();
  if (name.startsWith('*.')) return lower.endsWith(name.slice(1));
  return lower === name;
}

export function secretAllowedFor(secret: LoadedSecret, host: string, port: number): boolean {
  return secret.hosts.some((pattern) => hostMatches(pattern, host, port));
}

/** `credential.helper` that answers git with the placeholder for the secret's hosts (git asks only after a 401). */
function gitCredentialHelper(secrets: readonly LoadedSecret[]): string {
  const cases = secrets.map((secret) => {
    const patterns = secret.hosts.flatMap((host) => (host.includes(':') ? [host] : [host, `${host}:*`]));
    const user = `'${secret.username.replace(/'/g, `'\\''`)}'`;
    return `${patterns.join('|')}) printf 'username=%s\\npassword=%s\\n' ${user} "$${secret.name}";;`;
  });
  return [
    '!f() { test "$1" = get || exit 0; h=;',
    'while IFS== read -r k v; do test "$k" = host && h="$v"; done;',
    `case "$h" in ${cases.join(' ')} esac; }; f`,
  ].join(' ');
}

function decodeBasic(value: string): { prefix: string; credentials: string } | undefined {
  const match = /^(\s*basic\s+)([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!match) return undefined;
  return {
    prefix: match[1] ?? 'Basic ',
    credentials: Buffer.from(match[2] ?? '', 'base64').toString('utf8'),
  };
}

export function createSecretSwap(secrets: readonly LoadedSecret[]): SecretSwap {
  const entries = secrets.map((secret) => ({
    secret,
    placeholder: `warren-placeholder-${secret.name.toLowerCase().replace(/_/g, '-')}-${randomBytes(12).toString('hex')}`,
  }));
  const environment: Record<string, string> = {};
  for (const entry of entries) environment[entry.secret.name] = entry.placeholder;
  const basic = entries.filter((entry) => entry.secret.how === 'basic').map((entry) => entry.secret);
  if (basic.length > 0) {
    environment.GIT_CONFIG_COUNT = '1';
    environment.GIT_CONFIG_KEY_0 = 'credential.helper';
    environment.GIT_CONFIG_VALUE_0 = gitCredentialHelper(basic);
    environment.GIT_TERMINAL_PROMPT = '0';
  }

  const present = (text: string) => entries.filter((entry) => text.includes(entry.placeholder));

  function beforeForward(exchange: HookExchange): HookDecision {
    const refuse = (name: string, reason: string): HookDecision => ({
      kind: 'refuse',
      rule: `secret:${name}`,
      reason,
    });
    const inUrl = present(exchange.url)[0];
    if (inUrl)
      return refuse(
        inUrl.secret.name,
        `the placeholder of secret ${inUrl.secret.name} is in the URL of a request to ${exchange.host}; Warren inserts secrets only into request headers, so this request was refused`,
      );
    const found = new Map<string, (typeof entries)[number]>();
    const rewritten: string[] = [];
    for (let index = 0; index < exchange.rawHeaders.length; index += 2) {
      const name = exchange.rawHeaders[index] ?? '';
      let value = exchange.rawHeaders[index + 1] ?? '';
      const basicAuth = /^(proxy-)?authorization$/i.test(name) ? decodeBasic(value) : undefined;
      for (const entry of [...present(value), ...(basicAuth ? present(basicAuth.credentials) : [])])
        found.set(entry.secret.name, entry);
      for (const entry of entries) {
        if (!secretAllowedFor(entry.secret, exchange.host, exchange.port)) continue;
        value = value.split(entry.placeholder).join(entry.secret.value);
      }
      if (basicAuth && present(basicAuth.credentials).length > 0) {
        let credentials = basicAuth.credentials;
        for (const entry of entries)
          if (secretAllowedFor(entry.secret, exchange.host, exchange.port))
            credentials = credentials.split(entry.placeholder).join(entry.secret.value);
        value = `${basicAuth.prefix}${Buffer.from(credentials, 'utf8').toString('base64')}`;
      }
      rewritten.push(name, value);
    }
    if (found.size === 0) return { kind: 'continue' };
    for (const entry of found.values())
      if (!secretAllowedFor(entry.secret, exchange.host, exchange.port))
        return refuse(
          entry.secret.name,
          `the placeholder of secret ${entry.secret.name} may only be sent to ${entry.secret.hosts.join(', ')}; a request to ${exchange.host} carried it, so Warren refused it (the real value was not sent)`,
        );
    return {
      kind: 'continue',
      rawHeaders: rewritten,
      note: `secret ${[...found.keys()].join(', ')} inserted for ${exchange.host}`,
    };
  }

  return {
    environment,
    hook: { name: 'secrets', beforeForward },
    placeholders: Object.fromEntries(entries.map((entry) => [entry.secret.name, entry.placeholder])),
  };
}
