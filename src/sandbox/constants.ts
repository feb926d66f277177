/**
 * Fixed facts of the world inside every sandbox, whatever the driver. Callers and the proxy rely on them,
 * so they are part of the contract, not of any one engine.
 */
export const SANDBOX_PATHS = {
  workspace: '/workspace',
  home: '/home/agent',
  tmp: '/tmp',
  proxySocket: '/run/warren/proxy.sock',
  caBundle: '/etc/warren/ca-bundle.pem',
} as const;

export const SANDBOX_USER = { name: 'agent', uid: 1000, gid: 1000 } as const;

export const DEFAULT_PROXY_PORT = 3128;

export const DEFAULT_HOSTNAME = 'warren';

/** PATH inside: the system's /usr only; /usr/local first so locally installed tools win as on the host. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

export const NO_PROXY_HOSTS = 'localhost,127.0.0.1,::1';
