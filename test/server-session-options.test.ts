import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server/serve.js';

/** What every probe session prints: its preset's variable and which cache variables the sandbox set. */
const PROBE =
  'echo "probe=$PROBE_VAR"; echo "npm=${npm_config_cache:-none}"; echo "pip=${PIP_CACHE_DIR:-none}"';

const CONFIG = [
  'sandbox:',
  '  caches: [npm]',
  '  tmpSize: 256m',
  'agents:',
  '  probe:',
  `    command: ["/bin/sh", "-c", ${JSON.stringify(PROBE)}]`,
  '    env: { PROBE_VAR: from-config }',
  '    hosts: [models.example.test]',
  '    description: Probe agent',
  '  shell:',
  '    command: ["/bin/sh", "-c", "echo replaced-shell"]',
].join('\n');

interface ApiClient {
  get(path: string): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
}

async function logIn(server: RunningServer): Promise<ApiClient> {
  const origin = server.url.replace(/\/$/, '');
  const setup = await fetch(`${origin}/api/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin },
    body: JSON.stringify({ token: server.setupUrl?.split('/setup/')[1], password: 'session options test' }),
  });
  expect(setup.status).toBe(200);
  const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const { csrfToken } = (await setup.json()) as { csrfToken: string };
  return {
    get: (path) => fetch(`${origin}${path}`, { headers: { Cookie: cookie } }),
    post: (path, body) =>
      fetch(`${origin}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Origin: origin,
          Cookie: cookie,
          'X-CSRF-Token': csrfToken,
        },
        body: JSON.stringify(body),
      }),
  };
}

interface SessionBody {
  session: {
    id: string;
    agent: string;
    state: string;
    gpu: boolean;
    nestedContainers: boolean;
    caches: string[];
    error: string | null;
  };
}

describe('warren serve: gpu, caches and configured agent presets', () => {
  let home: string;
  let server: RunningServer;
  let api: ApiClient;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'warren-options-'));
    writeFileSync(join(home, 'warren.yaml'), CONFIG);
    server = await startServer({ env: { ...process.env, WARREN_HOME: home }, host: '127.0.0.1', port: 0 });
    api = await logIn(server);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** Starts a session, waits for it to end, and returns its row and what it printed. */
  async function runToEnd(
    body: Record<string, unknown>,
  ): Promise<{ session: SessionBody['session']; output: string }> {
    const created = await api.post('/api/sessions', body);
    expect(created.status, await created.clone().text()).toBe(201);
    const { session } = (await created.json()) as SessionBody;
    await server.sessions.live(session.id)?.finished;
    const output = await (await api.get(`/api/sessions/${session.id}/recording`)).text();
    return { session, output };
  }

  it('lists configured presets over the built-ins, and the caches with the configured defaults', async () => {
    const body = (await (await api.get('/api/presets')).json()) as {
      presets: { name: string; title: string; command: string[] }[];
      caches: { kind: string; explain: string; default: boolean }[];
    };
    expect(body.presets.map((preset) => preset.name)).toEqual([
      'shell',
      'claude',
      'codex',
      'opencode',
      'probe',
    ]);
    expect(body.presets.find((preset) => preset.name === 'probe')?.title).toBe('Probe agent');
    // A configured name replaces the built-in as a whole; without a description the title is the name.
    expect(body.presets[0]).toEqual({
      name: 'shell',
      title: 'shell',
      command: ['/bin/sh', '-c', 'echo replaced-shell'],
    });
    expect(body.caches.map((cache) => cache.kind)).toEqual(['npm', 'pip', 'cargo', 'go', 'gradle', 'apt']);
    expect(body.caches.filter((cache) => cache.default).map((cache) => cache.kind)).toEqual(['npm']);
    expect(body.caches[0]?.explain).toContain('npm_config_cache');
  });

  it(
    "runs a configured preset with its env and hosts; no caches in the request means the config's",
    { timeout: 30_000 },
    async () => {
      const { session, output } = await runToEnd({ agent: 'probe' });
      expect(session.agent).toBe('probe');
      expect(session.caches).toEqual(['npm']);
      expect(session.gpu).toBe(false);
      expect(output).toContain('probe=from-config');
      expect(output).toContain('npm=/var/cache/warren/npm');
      expect(output).toContain('pip=none');
      const row = server.runtime.store.sessions.get(session.id);
      expect(row?.details.allow).toEqual(['models.example.test']);
      expect(existsSync(join(home, 'caches', 'npm'))).toBe(true);
    },
  );

  it(
    'a list of caches in the request replaces the configured ones; [] means none',
    { timeout: 30_000 },
    async () => {
      const pipOnly = await runToEnd({ agent: 'probe', caches: ['pip'] });
      expect(pipOnly.session.caches).toEqual(['pip']);
      expect(pipOnly.output).toContain('npm=none');
      expect(pipOnly.output).toContain('pip=/var/cache/warren/pip');
      const none = await runToEnd({ agent: 'probe', caches: [] });
      expect(none.session.caches).toEqual([]);
      expect(none.output).toContain('npm=none');
      expect(none.output).toContain('pip=none');
    },
  );

  it(
    'nestedContainers lets the session make user namespaces (what nested podman needs); off by default',
    { timeout: 30_000 },
    async () => {
      const probe = 'unshare --user true 2>/dev/null && echo userns=allowed || echo userns=refused';
      const nested = await runToEnd({ agent: 'custom', command: probe, nestedContainers: true });
      expect(nested.session.nestedContainers).toBe(true);
      expect(nested.output).toContain('userns=allowed');
      const plain = await runToEnd({ agent: 'custom', command: probe });
      expect(plain.session.nestedContainers).toBe(false);
      expect(plain.output).toContain('userns=refused');
    },
  );

  it(
    "limits: each from the request, else the config, else Warren's defaults; read back inside, shown per session",
    { timeout: 30_000 },
    async () => {
      const body = (await (await api.get('/api/presets')).json()) as {
        limits: { limit: string; value: number; source: string }[];
      };
      const defaults = Object.fromEntries(body.limits.map((entry) => [entry.limit, entry]));
      expect(defaults.tmpBytes).toEqual({ limit: 'tmpBytes', value: 256 * 1024 ** 2, source: 'config' });
      expect(defaults.pids).toEqual({ limit: 'pids', value: 4096, source: 'warren' });
      expect(defaults.memoryBytes?.source).toBe('warren');
      const sizes =
        'for d in /tmp "$HOME" /dev/shm; do echo "size $d $(( $(stat -f -c %b $d) * $(stat -f -c %S $d) ))"; done';
      const { session, output } = await runToEnd({
        agent: 'custom',
        command: sizes,
        limits: { shmSize: '32m' },
      });
      expect(output).toContain(`size /tmp ${256 * 1024 ** 2}`);
      expect(output).toContain(`size /home/agent ${defaults.homeBytes?.value}`);
      expect(output).toContain(`size /dev/shm ${32 * 1024 ** 2}`);
      const shown = (await (await api.get(`/api/sessions/${session.id}`)).json()) as {
        session: { limits: { limit: string; mechanism: string }[]; unenforcedLimits: unknown[] };
      };
      expect(shown.session.limits.map((entry) => entry.limit).sort()).toEqual(
        ['homeBytes', 'memoryBytes', 'pids', 'shmBytes', 'tmpBytes'].sort(),
      );
      expect(shown.session.unenforcedLimits).toEqual([]);
      const refused = await api.post('/api/sessions', {
        agent: 'custom',
        command: 'true',
        limits: { pids: 2 },
      });
      expect(refused.status).toBe(400);
    },
  );

  it('refuses an unknown cache kind with 400, naming the known ones, before anything starts', async () => {
    const before = server.runtime.store.sessions.list({ limit: 1000 }).length;
    const response = await api.post('/api/sessions', { agent: 'probe', caches: ['npm', 'node_modules'] });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toContain('caches.1');
    expect(error.message).toContain('known: npm, pip, cargo, go, gradle, apt');
    expect(server.runtime.store.sessions.list({ limit: 1000 }).length).toBe(before);
  });

  it('refuses an unknown preset with the configured names in the hint', async () => {
    const response = await api.post('/api/sessions', { agent: 'aider' });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { hint: string } };
    expect(error.hint).toBe('one of: shell, claude, codex, opencode, probe, custom');
  });

  const hostHasGpu = existsSync('/dev/nvidiactl');

  it.skipIf(hostHasGpu)(
    "gpu=true on a host without a GPU fails with the driver's error as JSON, and leaves a failed row only",
    async () => {
      const response = await api.post('/api/sessions', { agent: 'probe', gpu: true });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string; hint: string } };
      expect(error.code).toBe('invalid-argument');
      expect(error.message).toMatch(/^No NVIDIA GPU on this host: \/dev\/nvidiactl/);
      expect(error.hint).toContain('without GPU access');
      const [row] = server.runtime.store.sessions.list({ limit: 1 });
      expect(row?.state).toBe('failed');
      expect(row?.details).toMatchObject({ gpu: true, error: expect.stringMatching(/No NVIDIA GPU/) });
      // Nothing of the session is left on disk: no workspace copy, no proxy socket folder.
      expect(readdirSync(server.runtime.home.sessionsDir)).not.toContain(row?.id);
      expect(readdirSync(server.runtime.home.runDir)).not.toContain(row?.id);
    },
  );

  it.runIf(hostHasGpu)(
    'gpu=true on a host with a GPU starts the session with it',
    { timeout: 30_000 },
    async () => {
      const { session } = await runToEnd({ agent: 'probe', gpu: true });
      expect(session.gpu).toBe(true);
    },
  );
});

describe('warren serve refuses bad agent presets at start', () => {
  const attempt = async (config: string) => {
    const home = mkdtempSync(join(tmpdir(), 'warren-options-'));
    try {
      writeFileSync(join(home, 'warren.yaml'), config);
      const server = await startServer({
        env: { ...process.env, WARREN_HOME: home },
        host: '127.0.0.1',
        port: 0,
      });
      await server.close();
      return undefined;
    } catch (error) {
      return error as Error & { code?: string };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  it('a host rule that would match unrelated owners', { timeout: 30_000 }, async () => {
    const error = await attempt('agents:\n  wide:\n    command: [wide]\n    hosts: ["*.com"]\n');
    expect(error?.code).toBe('invalid-config');
    expect(error?.message).toContain('agents.wide.hosts: Invalid host rule "*.com"');
  });

  it('unknown keys, an empty command, and the reserved name "custom"', { timeout: 30_000 }, async () => {
    const unknownKey = await attempt('agents:\n  a:\n    command: [a]\n    cmd: [a]\n');
    expect(unknownKey?.message).toMatch(/agents\.a.*cmd/);
    const empty = await attempt('agents:\n  a:\n    command: []\n');
    expect(empty?.message).toContain('agents.a.command');
    const reserved = await attempt('agents:\n  custom:\n    command: [a]\n');
    expect(reserved?.message).toContain('"custom" is reserved');
  });

  it('an unknown kind in sandbox.caches', { timeout: 30_000 }, async () => {
    const error = await attempt('sandbox:\n  caches: [npm, maven]\n');
    expect(error?.code).toBe('invalid-config');
    expect(error?.message).toBe('sandbox.caches: unknown cache maven');
  });
});
