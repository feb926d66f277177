import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { listen, runScript, sh, waitFor, type ContractKit } from './contract-kit.js';
import { runPlanWithHostEnv, uniqueMarker } from './fixtures.js';

const HOST_ANTHROPIC_KEY = 'sk-secret-host-anthropic-0123456789';
const HOST_GITHUB_TOKEN = 'ghp_secrethosttoken0123456789';

/** Escape attempts, each its own test: the sandbox must not reach what the host keeps outside it. */
export function registerEscapeTests(kit: ContractKit): void {
  const { contractTest } = kit;
  const run = (script: string, overrides = {}, timeoutMs?: number) =>
    runScript(kit, script, overrides, timeoutMs);

  contractTest('escape: cannot read a secret in the host home, and /root is not there', async () => {
    const result = await run(
      `cat ${kit.fixture().secretPath}; ls -la ${kit.fixture().hostHome}; ls -la /root; cat /root/.bash_history`,
    );
    expect(result.stdout).not.toContain(kit.fixture().secret);
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
      const plan = await kit
        .driver()
        .plan(kit.fixture().spec(sh(`env; cat ${warrenHome}/warren.db; ls ${warrenHome}`)));
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
    symlinkSync(kit.fixture().secretPath, join(kit.fixture().workspace, 'innocent-link'));
    const result = await run('cat /workspace/innocent-link');
    expect(result.stdout).not.toContain(kit.fixture().secret);
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

  contractTest('escape: host environment secrets appear neither in env nor in /proc/*/environ', async () => {
    const plan = await kit
      .driver()
      .plan(kit.fixture().spec(sh('env; cat /proc/[0-9]*/environ | tr "\\0" "\\n"')));
    const result = await runPlanWithHostEnv(plan, {
      ...process.env,
      ANTHROPIC_API_KEY: HOST_ANTHROPIC_KEY,
      GITHUB_TOKEN: HOST_GITHUB_TOKEN,
    });
    expect(result.stdout).toContain('WARREN_SESSION=');
    expect(result.stdout).not.toContain(HOST_ANTHROPIC_KEY);
    expect(result.stdout).not.toContain(HOST_GITHUB_TOKEN);
    expect(result.stdout).not.toContain('GITHUB_TOKEN');
  });

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
}
