import { describe, expect, it } from 'vitest';
import { buildSandboxEnvironment } from './environment.js';
import type { SandboxSpec } from './spec.js';

const base: SandboxSpec = { sessionId: 'abc', workspace: '/srv/work', command: ['bash'] };

describe('buildSandboxEnvironment', () => {
  it('sets the full contract with a proxy, a CA bundle and a gateway token', () => {
    const environment = buildSandboxEnvironment({
      ...base,
      proxy: { socketPath: '/run/s.sock', port: 4000 },
      caBundlePath: '/home/u/ca.pem',
      gateway: { token: 'wt-123' },
      env: { EDITOR: 'vi' },
    });
    expect(environment).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
      LANG: 'C.UTF-8',
      EDITOR: 'vi',
      HOME: '/home/agent',
      USER: 'agent',
      LOGNAME: 'agent',
      IS_SANDBOX: '1',
      WARREN_SESSION: 'abc',
      HTTP_PROXY: 'http://127.0.0.1:4000',
      HTTPS_PROXY: 'http://127.0.0.1:4000',
      ALL_PROXY: 'http://127.0.0.1:4000',
      http_proxy: 'http://127.0.0.1:4000',
      https_proxy: 'http://127.0.0.1:4000',
      all_proxy: 'http://127.0.0.1:4000',
      npm_config_proxy: 'http://127.0.0.1:4000',
      npm_config_https_proxy: 'http://127.0.0.1:4000',
      GRPC_PROXY: 'http://127.0.0.1:4000',
      grpc_proxy: 'http://127.0.0.1:4000',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      NODE_USE_ENV_PROXY: '1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000',
      OPENAI_BASE_URL: 'http://127.0.0.1:4000/v1',
      ANTHROPIC_API_KEY: 'wt-123',
      OPENAI_API_KEY: 'wt-123',
      SSL_CERT_FILE: '/etc/warren/ca-bundle.pem',
      NODE_EXTRA_CA_CERTS: '/etc/warren/ca-bundle.pem',
      REQUESTS_CA_BUNDLE: '/etc/warren/ca-bundle.pem',
      CURL_CA_BUNDLE: '/etc/warren/ca-bundle.pem',
      PIP_CERT: '/etc/warren/ca-bundle.pem',
      GIT_SSL_CAINFO: '/etc/warren/ca-bundle.pem',
      CARGO_HTTP_CAINFO: '/etc/warren/ca-bundle.pem',
      AWS_CA_BUNDLE: '/etc/warren/ca-bundle.pem',
      DENO_CERT: '/etc/warren/ca-bundle.pem',
      npm_config_cafile: '/etc/warren/ca-bundle.pem',
    });
  });

  it('leaves out proxy, gateway and CA variables when those parts are absent', () => {
    const environment = buildSandboxEnvironment({ ...base, gateway: { token: 'wt' } });
    expect(Object.keys(environment).sort()).toEqual(
      ['HOME', 'IS_SANDBOX', 'LANG', 'LOGNAME', 'PATH', 'USER', 'WARREN_SESSION'].sort(),
    );
  });

  it('omits the keys without a token and sets TERM only for a TTY', () => {
    const withProxy = { ...base, proxy: { socketPath: '/s' } };
    expect(buildSandboxEnvironment(withProxy).ANTHROPIC_API_KEY).toBeUndefined();
    expect(buildSandboxEnvironment(withProxy).TERM).toBeUndefined();
    expect(buildSandboxEnvironment({ ...withProxy, tty: true }).TERM).toBe('xterm-256color');
    expect(buildSandboxEnvironment({ ...withProxy, tty: true, env: { TERM: 'screen' } }).TERM).toBe('screen');
  });

  it('never copies the host environment', () => {
    process.env.WARREN_ENVIRONMENT_TEST_SECRET = 'leak';
    try {
      expect(Object.values(buildSandboxEnvironment(base))).not.toContain('leak');
    } finally {
      delete process.env.WARREN_ENVIRONMENT_TEST_SECRET;
    }
  });
});
