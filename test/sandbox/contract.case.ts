import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  mkdtempSync,
  rmSync,
} from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { runSandboxed, type DriverAvailability, type SandboxDriver } from '../../src/sandbox/index.js';
import { createSandboxFixture, runPlanWithHostEnv, uniqueMarker, type SandboxFixture } from './fixtures.js';

export interface SkippedContractTest {
  name: string;
  reason: string;
}

const HOST_ANTHROPIC_KEY = 'sk-secret-host-anthropic-0123456789';
const HOST_GITHUB_TOKEN = 'ghp_secrethosttoken0123456789';

function listen(server: Server, address: string | number): Promise<void> {
  return new Promise((resolve) => {
    if (typeof address === 'number') server.listen(address, '127.0.0.1', resolve);
    else server.listen(address, resolve);
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The behaviour every sandbox driver must show, escape attempts first-class. A driver that cannot pass a test
 * lists it in `skipped` with the reason; the suite then reports it as skipped, never as passed.
 */
export function runSandboxDriverContract(
  driverName: string,
  createDriver: () => SandboxDriver,
  skipped: SkippedContractTest[] = [],
): void {
  describe(`sandbox driver contract: ${driverName}`, () => {
    let driver: SandboxDriver;
    let availability: DriverAvailability;
    let fixture: SandboxFixture;

    beforeAll(async () => {
      driver = createDriver();
      availability = await driver.available();
    });
    beforeEach(async () => {
      fixture = await createSandboxFixture();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    function contractTest(name: string, body: (context: TestContext) => Promise<void>, timeoutMs = 30_000) {
      const skip = skipped.find((entry) => entry.name === name);
      if (skip) {
        it.skip(`${name} (skipped: ${skip.reason})`, () => undefined);
        return;
      }
      it(
        name,
        async (context) => {
          if (!availability.ok) {
            if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
            throw new Error(`${availability.reason}: ${availability.install}`);
          }
          await body(context);
        },
        timeoutMs,
      );
    }

    const sh = (script: string) => ['/bin/sh', '-c', script];
    const run = (script: string, overrides = {}, timeoutMs = 20_000) =>
      runSandboxed(driver, fixture.spec(sh(script), overrides), { timeoutMs });

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
      expect(existsSync(join(fixture.workspace, 'w'))).toBe(true);
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
      expect(inside.WARREN_SESSION).toBe(fixture.spec([]).sessionId);
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
      const bundlePath = join(fixture.root, 'bundle.pem');
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

    contractTest('escape: cannot read a secret in the host home, and /root is not there', async () => {
      const result = await run(
        `cat ${fixture.secretPath}; ls -la ${fixture.hostHome}; ls -la /root; cat /root/.bash_history`,
      );
      expect(result.stdout).not.toContain(fixture.secret);
      expect(result.stdout).not.toContain('id_ed25519');
      expect(result.stderr).toMatch(/No such file/);
      expect(result.status).not.toBe(0);
    });

    contractTest('escape: cannot see a marker file in host /tmp', async () => {
      const marker = join('/tmp', uniqueMarker('warren-host-marker'));
      writeFileSync(marker, 'host marker');
      try {
        const result = await run(`ls -a /tmp; cat ${marker}`);
        expect(result.stdout).not.toContain(marker.slice('/tmp/'.length));
        expect(result.stdout).not.toContain('host marker');
      } finally {
        rmSync(marker, { force: true });
      }
    });

    contractTest('escape: cannot read WARREN_HOME', async () => {
      const warrenHome = mkdtempSync(join(tmpdir(), 'warren-home-'));
      const secret = uniqueMarker('warren-home-secret');
      writeFileSync(join(warrenHome, 'warren.db'), secret);
      const previous = process.env.WARREN_HOME;
      process.env.WARREN_HOME = warrenHome;
      try {
        const plan = await driver.plan(
          fixture.spec(sh(`env; cat ${warrenHome}/warren.db; ls ${warrenHome}`)),
        );
        const result = await runPlanWithHostEnv(plan, process.env);
        expect(result.stdout).not.toContain(secret);
        expect(result.stdout).not.toContain('WARREN_HOME');
        expect(result.stdout).not.toContain(warrenHome);
      } finally {
        if (previous === undefined) delete process.env.WARREN_HOME;
        else process.env.WARREN_HOME = previous;
        rmSync(warrenHome, { recursive: true, force: true });
      }
    });

    contractTest('escape: cannot read /etc/shadow or other host secrets under /etc', async () => {
      const result = await run(
        'cat /etc/shadow /etc/gshadow /etc/sudoers; ls /etc/ssh /etc/ssl/private; cat /etc/npmrc; ls /etc',
      );
      expect(result.stdout).not.toMatch(/^root:[^:]*:\d+:/m);
      const listing = result.stdout.split('\n');
      for (const name of ['shadow', 'gshadow', 'sudoers', 'ssh', 'npmrc', 'pip.conf', 'gitconfig'])
        expect(listing).not.toContain(name);
      expect(result.stderr).toMatch(/No such file/);
    });

    contractTest('escape: a symlink in the workspace to a host file does not resolve', async () => {
      symlinkSync(fixture.secretPath, join(fixture.workspace, 'innocent-link'));
      const result = await run('cat /workspace/innocent-link');
      expect(result.stdout).not.toContain(fixture.secret);
      expect(result.status).not.toBe(0);
    });

    contractTest('escape: host processes are not visible in /proc', async () => {
      const result = await run('ps -e -o pid=,args=; echo ---; ls -d /proc/[0-9]*');
      expect(result.status).toBe(0);
      const [listing = '', procEntries = ''] = result.stdout.split('---\n');
      const processes = listing.trim().split('\n');
      // Only the sandbox's own programs: its init, the launcher or command shell, the bridge and ps itself.
      const programs = new Set(processes.map((line) => line.trim().split(/\s+/)[1]?.split('/').pop()));
      // podman-init/docker-init: the container engines' --init (pid 1, reaps and forwards signals).
      const sandboxPrograms = ['bwrap', 'podman-init', 'docker-init', 'sh', 'socat', 'ps'];
      for (const program of programs) expect(sandboxPrograms).toContain(program);
      expect(processes.length).toBeLessThanOrEqual(6);
      expect(procEntries.trim().split('\n').length).toBeLessThanOrEqual(6);
      expect(result.stdout).not.toContain('vitest');
      expect(result.stdout).not.toMatch(new RegExp(`^\\s*${process.pid}\\b`, 'm'));
      expect(existsSync(`/proc/${process.pid}`)).toBe(true); // the host side of the check is real
    });

    contractTest(
      'escape: host environment secrets appear neither in env nor in /proc/*/environ',
      async () => {
        const plan = await driver.plan(fixture.spec(sh('env; cat /proc/[0-9]*/environ | tr "\\0" "\\n"')));
        const result = await runPlanWithHostEnv(plan, {
          ...process.env,
          ANTHROPIC_API_KEY: HOST_ANTHROPIC_KEY,
          GITHUB_TOKEN: HOST_GITHUB_TOKEN,
        });
        expect(result.stdout).toContain('WARREN_SESSION=');
        expect(result.stdout).not.toContain(HOST_ANTHROPIC_KEY);
        expect(result.stdout).not.toContain(HOST_GITHUB_TOKEN);
        expect(result.stdout).not.toContain('GITHUB_TOKEN');
      },
    );

    contractTest('escape: cannot connect to a host loopback TCP service', async () => {
      let connections = 0;
      const server = createNetServer((socket) => {
        connections += 1;
        socket.end('host-service\n');
      });
      await listen(server, 0);
      const port = (server.address() as { port: number }).port;
      try {
        const result = await run(
          `curl --noproxy '*' -sS --max-time 3 http://127.0.0.1:${port}/; socat -T 2 - TCP:127.0.0.1:${port} </dev/null`,
        );
        expect(result.stdout).not.toContain('host-service');
        expect(result.stderr).toMatch(/refused|Failed to connect|Connection/i);
        expect(connections).toBe(0);
      } finally {
        server.close();
      }
    });

    contractTest('escape: cannot reach a host abstract unix socket (socat listener)', async () => {
      const name = uniqueMarker('warren-test-abstract');
      const listener = spawn('socat', [`ABSTRACT-LISTEN:${name},fork`, 'SYSTEM:echo abstract-reached'], {
        stdio: 'ignore',
      });
      try {
        await waitFor(
          () => readFileSync('/proc/net/unix', 'utf8').includes(`@${name}`),
          'socat abstract listener',
        );
        // Positive control: the same client reaches the socket from the host.
        const control = execFileSync('socat', ['-T', '2', '-', `ABSTRACT-CONNECT:${name}`], {
          input: '',
        }).toString();
        expect(control).toContain('abstract-reached');
        const result = await run(`socat -T 2 - ABSTRACT-CONNECT:${name} </dev/null`);
        expect(result.stdout).not.toContain('abstract-reached');
        expect(result.stderr).toMatch(/Connection refused/);
        expect(result.status).not.toBe(0);
      } finally {
        listener.kill();
      }
    });

    contractTest('escape: cannot reach a host abstract unix socket (Node listener)', async (context) => {
      // Node pads abstract names to the full sun_path, so only a Node client can name the socket exactly.
      if (!process.execPath.startsWith('/usr/')) context.skip();
      const name = uniqueMarker('warren-test-abstract');
      let connections = 0;
      const server = createNetServer((socket) => {
        connections += 1;
        socket.end('abstract-reached\n');
      });
      await listen(server, `\0${name}`);
      const client = `require("net").connect("\\0${name}").on("data", (d) => process.stdout.write(d)).on("error", (e) => { console.error(e.code); process.exit(3); })`;
      try {
        const control = await new Promise<string>((resolve) =>
          execFile(process.execPath, ['-e', client], (_error, stdout) => resolve(stdout)),
        );
        expect(control).toContain('abstract-reached');
        const hostConnections = connections;
        const result = await run(`${process.execPath} -e '${client}'`);
        expect(result.stdout).not.toContain('abstract-reached');
        expect(result.stderr).toContain('ECONNREFUSED');
        expect(connections).toBe(hostConnections);
      } finally {
        server.close();
      }
    });

    contractTest('escape: the network namespace has only loopback', async () => {
      const result = await run('cat /proc/net/dev');
      const interfaces = result.stdout
        .split('\n')
        .slice(2)
        .map((line) => line.split(':')[0]?.trim())
        .filter(Boolean);
      expect(interfaces).toEqual(['lo']);
    });

    contractTest('escape: cannot write to /usr', async () => {
      const name = uniqueMarker('warren-usr');
      const result = await run(`touch /usr/${name} /usr/bin/${name}; echo x > /usr/lib/${name}`);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/Read-only|Permission denied/);
      expect(
        existsSync(`/usr/${name}`) || existsSync(`/usr/bin/${name}`) || existsSync(`/usr/lib/${name}`),
      ).toBe(false);
    });

    contractTest('escape: files written to /tmp inside do not reach host /tmp', async () => {
      const name = uniqueMarker('warren-leak');
      const result = await run(`echo leaked > /tmp/${name} && cat /tmp/${name}`);
      expect(result.stdout.trim()).toBe('leaked');
      expect(existsSync(`/tmp/${name}`)).toBe(false);
    });

    contractTest('escape: cannot write outside the mounts (root, /etc, /home)', async () => {
      const result = await run('touch /escape-root /etc/escape-etc /home/escape-home 2>&1; echo done');
      expect(result.stdout).toMatch(/Read-only/);
      expect(existsSync('/escape-root') || existsSync('/etc/escape-etc')).toBe(false);
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
      const result = await runSandboxed(driver, fixture.spec(sh('tr a-z A-Z; echo to-stderr >&2')), {
        stdin: 'hello from the host\n',
      });
      expect(result.stdout).toBe('HELLO FROM THE HOST\n');
      expect(result.stderr).toBe('to-stderr\n');
      expect(result.status).toBe(0);
    });

    contractTest('the proxy bridge carries HTTP requests to the session socket', async () => {
      const result = await run('curl -sS --max-time 5 http://example.test/hello');
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('proxied GET http://example.test/hello\n');
      expect(fixture.proxyRequests).toEqual([
        { method: 'GET', url: 'http://example.test/hello', host: 'example.test' },
      ]);
    });

    contractTest('without a proxy there is no egress at all', async () => {
      const result = await run('curl -sS --max-time 3 http://example.test/; env', { proxy: undefined });
      expect(result.stdout).not.toContain('HTTP_PROXY');
      expect(result.stdout).not.toContain('ANTHROPIC_API_KEY');
      expect(fixture.proxyRequests).toEqual([]);
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
  });
}
