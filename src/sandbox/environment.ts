import { NO_PROXY_HOSTS, SANDBOX_PATH, SANDBOX_PATHS, SANDBOX_USER } from './constants.js';
import { CA_VARIABLE_NAMES, NO_PROXY_VARIABLE_NAMES, PROXY_VARIABLE_NAMES } from './environment-names.js';
import type { NormalizedSandboxSpec, SandboxSpec } from './spec.js';
import { normalizeSandboxSpec } from './spec.js';

/**
 * The complete environment of the command inside the sandbox: the contract of ARCHITECTURE.md
 * ("Inside every sandbox") plus spec.env. Nothing comes from the host's environment.
 */
export function buildSandboxEnvironment(spec: SandboxSpec): Record<string, string> {
  return environmentOfNormalizedSpec(normalizeSandboxSpec(spec));
}

/** The same, for drivers that already hold a validated spec. */
export function environmentOfNormalizedSpec(normalized: NormalizedSandboxSpec): Record<string, string> {
  const environment: Record<string, string> = {
    PATH: SANDBOX_PATH,
    LANG: 'C.UTF-8',
    ...normalized.env,
    HOME: SANDBOX_PATHS.home,
    USER: SANDBOX_USER.name,
    LOGNAME: SANDBOX_USER.name,
    IS_SANDBOX: '1',
    WARREN_SESSION: normalized.sessionId,
  };
  if (normalized.tty) environment.TERM = normalized.env.TERM ?? 'xterm-256color';

  if (normalized.proxy) {
    const origin = `http://127.0.0.1:${normalized.proxy.port}`;
    for (const name of PROXY_VARIABLE_NAMES) environment[name] = origin;
    for (const name of NO_PROXY_VARIABLE_NAMES) environment[name] = NO_PROXY_HOSTS;
    environment.NODE_USE_ENV_PROXY = '1';
    // Gateway variables only with a proxy: without one the gateway is unreachable anyway.
    // The proxy answers origin-form requests with the model gateway, so the SDKs talk to it directly.
    environment.ANTHROPIC_BASE_URL = origin;
    environment.OPENAI_BASE_URL = `${origin}/v1`;
    if (normalized.gatewayToken) {
      environment.ANTHROPIC_API_KEY = normalized.gatewayToken;
      environment.OPENAI_API_KEY = normalized.gatewayToken;
    }
  }
  if (normalized.caBundlePath) {
    for (const name of CA_VARIABLE_NAMES) environment[name] = SANDBOX_PATHS.caBundle;
  }
  return environment;
}
