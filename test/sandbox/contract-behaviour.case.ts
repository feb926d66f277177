import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runSandboxed } from '../../src/sandbox/index.js';
import { runScript, sh, type ContractKit } from './contract-kit.js';

/** What every sandbox provides: identity, environment, processes, pipes, the proxy bridge and the limits. */
export function registerBehaviourTests(kit: ContractKit): void {
  const { contractTest } = kit;
  const run = (script: string, overrides = {}, timeoutMs?: number) =>
    runScript(kit, script, overrides, timeoutMs);

  contractTest('runs as a non-root user with cwd /workspace, fresh HOME and private /tmp', async () => {
    const result = await run(
      'id -u; pwd; echo "$HOME"; touch "$HOME/h" /tmp/t /workspace/w && echo writable',
    );
    expect(result.stderr).toBe('');
    const [uid, cwd, home, writable] = result.stdout.trim().split('\n');
    expect(uid).not.toBe('0');
    expect(cwd).toBe('/workspace');
    expect(home).toBe('/home/agent');
    expect(writable).toBe('writable');
    expect(existsSync(join(kit.fixture().workspace, 'w'))).toBe(true);
  });

  contractTest('uses the spec host name, and /etc/hosts names localhost', async () => {
    // Shell builtins only, so that minimal images without getent can run it.
    const hostsLookup =
      'while read -r address names; do case " $names " in *" localhost "*) echo "$address localhost";; esac; done < /etc/hosts';
    const result = await run(`uname -n; ${hostsLookup}`, { hostname: 'agent-box' });
    expect(result.stderr).toBe('');
    const [hostname, localhost] = result.stdout.trim().split('\n');
    expect(hostname).toBe('agent-box');
    expect(localhost).toMatch(/^(127\.0\.0\.1|::1)\s+localhost/);
  });

  contractTest('sets the environment contract and nothing from the host', async () => {
    const result = await run('env');
    const inside = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const proxy = 'http://127.0.0.1:3128';
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'])
      expect(inside[name], name).toBe(proxy);
    for (const name of ['npm_config_proxy', 'npm_config_https_proxy', 'GRPC_PROXY'])
      expect(inside[name]).toBe(proxy);
    expect(inside.NO_PROXY).toBe('localhost,127.0.0.1,::1');
    expect(inside.no_proxy).toBe('localhost,127.0.0.1,::1');
    expect(inside.NODE_USE_ENV_PROXY).toBe('1');
    expect(inside.ANTHROPIC_BASE_URL).toBe(proxy);
    expect(inside.OPENAI_BASE_URL).toBe(`${proxy}/v1`);
    expect(inside.ANTHROPIC_API_KEY).toBe('warren-session-token');
    expect(inside.OPENAI_API_KEY).toBe('warren-session-token');
    expect(inside.IS_SANDBOX).toBe('1');
    expect(inside.WARREN_SESSION).toBe(kit.fixture().spec([]).sessionId);
    expect(inside.HOME).toBe('/home/agent');
    expect(inside.LANG).toBe('C.UTF-8');
    expect(inside.USER).toBeTruthy();
    expect(inside.PATH).toContain('/usr/bin');
    const allowed = new Set([
      ...Object.keys(inside).filter((name) => /PROXY|proxy|CA|CERT|_BASE_URL|_API_KEY/.test(name)),
      'IS_SANDBOX',
      'WARREN_SESSION',
      'HOME',
      'USER',
      'LOGNAME',
      'LANG',
      'PATH',
      'PWD',
      'SHLVL',
      'OLDPWD',
      '_',
    ]);
    expect(Object.keys(inside).filter((name) => !allowed.has(name))).toEqual([]);
  });

  contractTest('points the CA variables at the mounted bundle', async () => {
    const bundlePath = join(kit.fixture().root, 'bundle.pem');
    writeFileSync(bundlePath, '-----BEGIN CERTIFICATE-----\nwarren-test\n-----END CERTIFICATE-----\n');
    const names = [
      'SSL_CERT_FILE',
      'NODE_EXTRA_CA_CERTS',
      'REQUESTS_CA_BUNDLE',
      'CURL_CA_BUNDLE',
      'PIP_CERT',
    ];
    names.push('GIT_SSL_CAINFO', 'CARGO_HTTP_CAINFO', 'AWS_CA_BUNDLE', 'DENO_CERT', 'npm_config_cafile');
    const script = `${names.map((name) => `echo "$${name}"`).join('; ')}; cat "$SSL_CERT_FILE"`;
    const result = await run(script, { caBundlePath: bundlePath });
    const lines = result.stdout.split('\n');
    expect(new Set(lines.slice(0, names.length))).toEqual(new Set(['/etc/warren/ca-bundle.pem']));
    expect(result.stdout).toContain('warren-test');
  });

  contractTest('background processes die with the session', async () => {
    const duration = `1000.${Date.now() % 100000}`;
    const result = await run(
      `sleep ${duration} & setsid nohup sleep ${duration}1 >/dev/null 2>&1 & echo started`,
    );
    expect(result.stdout.trim()).toBe('started');
    const deadline = Date.now() + 3000;
    let survivors: string[] = [];
    do {
      survivors = readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(duration);
          } catch {
            return false;
          }
        });
      if (survivors.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(survivors).toEqual([]);
  });

  contractTest('exit status passes through', async () => {
    expect((await run('exit 42')).status).toBe(42);
    expect((await run('exit 0')).status).toBe(0);
    expect((await run('kill -9 $$')).status).toBe(137);
  });

  contractTest('stdin, stdout and stderr are piped', async () => {
    const result = await runSandboxed(
      kit.driver(),
      kit.fixture().spec(sh('tr a-z A-Z; echo to-stderr >&2')),
      {
        stdin: 'hello from the host\n',
      },
    );
    expect(result.stdout).toBe('HELLO FROM THE HOST\n');
    expect(result.stderr).toBe('to-stderr\n');
    expect(result.status).toBe(0);
  });

  contractTest('the proxy bridge carries HTTP requests to the session socket', async () => {
    const result = await run('curl -sS --max-time 5 http://example.test/hello');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('proxied GET http://example.test/hello\n');
    expect(kit.fixture().proxyRequests).toEqual([
      { method: 'GET', url: 'http://example.test/hello', host: 'example.test' },
    ]);
  });

  contractTest('without a proxy there is no egress at all', async () => {
    const result = await run('curl -sS --max-time 3 http://example.test/; env', { proxy: undefined });
    expect(result.stdout).not.toContain('HTTP_PROXY');
    expect(result.stdout).not.toContain('ANTHROPIC_API_KEY');
    expect(kit.fixture().proxyRequests).toEqual([]);
  });

  contractTest('pids limit stops a fork bomb-lite', async () => {
    const result = await run('for i in $(seq 200); do sleep 5 & done; echo all-started', {
      limits: { pids: 32 },
    });
    expect(result.stdout).not.toContain('all-started');
    expect(result.status).not.toBe(0);
  });

  contractTest(
    'memory limit stops an over-allocating process',
    async () => {
      // Doubles a string to 512 MiB; with a 64 MiB limit the process must be killed or refused memory.
      const awk = `awk 'BEGIN { s = "x"; while (length(s) < 536870912) s = s s; print "allocated" }'`;
      const result = await run(
        `${awk}; echo "awk-status=$?"`,
        { limits: { memoryBytes: 64 * 1024 * 1024 } },
        60_000,
      );
      expect(result.timedOut).toBe(false);
      expect(result.stdout).not.toContain('allocated\n');
      expect(result.stdout).toMatch(/awk-status=[1-9]/);
    },
    90_000,
  );

  contractTest('cpu time limit kills a busy loop', async () => {
    const started = Date.now();
    const result = await run('while :; do :; done', { limits: { cpuSeconds: 1 } }, 20_000);
    expect(result.timedOut).toBe(false);
    expect([137, 152]).toContain(result.status); // SIGKILL or SIGXCPU
    expect(Date.now() - started).toBeLessThan(15_000);
  });
}
