import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, validateHar, type CertificateAuthority } from '../../src/proxy/index.js';
import { startFakeOpenAi, type FakeLlm } from '../helpers/fake-llm.js';
import {
  echoHandler,
  startHttpsUpstream,
  startHttpUpstream,
  type FakeUpstream,
} from '../helpers/upstream.js';
import { freshDirectories, warren } from './warren-cli.js';

/** `warren run` end to end: the real CLI, real bwrap, real proxy, real curl inside the sandbox. */
describe('warren run', () => {
  let http: FakeUpstream;
  let https: FakeUpstream;
  let upstreamCa: CertificateAuthority;

  beforeAll(async () => {
    http = await startHttpUpstream(echoHandler('plain hello'));
    upstreamCa = await createCertificateAuthority({ dir: freshDirectories().home });
    https = await startHttpsUpstream(upstreamCa, echoHandler('secure hello'));
  });
  afterAll(async () => {
    await http.close();
    await https.close();
  });

  function environment(home: string): Record<string, string> {
    return {
      WARREN_HOME: home,
      // The proxy verifies upstream certificates against the system roots plus this file.
      NODE_EXTRA_CA_CERTS: upstreamCa.certificatePath,
      ANTHROPIC_API_KEY: 'sk-ant-host-secret-never-inside',
      GITHUB_TOKEN: 'ghp_host_secret_never_inside',
    };
  }

  it('passes stdin, stdout, stderr and the exit status through, in /workspace as uid 1000', async () => {
    const { home, workspace } = freshDirectories();
    const result = await warren(
      [
        'run',
        '--dir',
        workspace,
        '--',
        'sh',
        '-c',
        'cat; echo "$(id -u) $(pwd)"; echo oops >&2; echo made > out.txt; exit 7',
      ],
      { env: environment(home), input: 'from stdin\n' },
    );
    expect(result.stderr).toContain('oops');
    expect(result.stdout).toBe('from stdin\n1000 /workspace\n');
    expect(result.code).toBe(7);
    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('made\n');
  });

  it('never shows the host environment, but sets the sandbox contract and a session token', async () => {
    const { home, workspace } = freshDirectories();
    const result = await warren(
      ['run', '--dir', workspace, '--', 'sh', '-c', 'env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"'],
      {
        env: environment(home),
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('host-secret');
    expect(result.stdout).not.toContain('ghp_host');
    expect(result.stdout).toMatch(/^WARREN_SESSION=s-[0-9a-f]{12}$/m);
    expect(result.stdout).toMatch(/^IS_SANDBOX=1$/m);
    expect(result.stdout).toMatch(/^ANTHROPIC_API_KEY=wrn_/m);
    expect(result.stdout).toMatch(/^HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128$/m);
  });

  it('lets allowed hosts through the proxy, refuses the rest, records both and writes HAR', async () => {
    const { home, workspace } = freshDirectories();
    const script = [
      `curl -sS --noproxy '' http://localhost:${http.port}/allowed`,
      `curl -sS --noproxy '' -o /dev/null -w ' %{http_code}' http://127.0.0.1:${http.port}/refused`,
    ].join('; ');
    const harPath = join(workspace, 'session.har');
    const result = await warren(
      [
        'run',
        '--dir',
        workspace,
        '--allow',
        `localhost:${http.port}`,
        '--har',
        harPath,
        '--',
        'sh',
        '-c',
        script,
      ],
      { env: environment(home) },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('plain hello 403');
    expect(http.seen.map((request) => request.url)).toEqual(['/allowed']);

    const har = JSON.parse(readFileSync(harPath, 'utf8')) as {
      log: { entries: Array<{ request: { url: string }; response: { status: number } }> };
    };
    expect(validateHar(har)).toEqual([]);
    expect(har.log.entries.map((entry) => [entry.request.url, entry.response.status])).toEqual([
      [`http://localhost:${http.port}/allowed`, 200],
      [`http://127.0.0.1:${http.port}/refused`, 403],
    ]);

    const flows = await warren(['flows', '--json'], { env: environment(home) });
    const records = flows.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { policy: { decision: string; reason: string } });
    expect(records.map((record) => record.policy.decision)).toEqual(['allow', 'deny']);
    expect(records[1]!.policy.reason).toMatch(/denies by default/);
  });

  it("intercepts HTTPS with Warren's CA, trusted inside without -k, and writes the key log", async () => {
    const { home, workspace } = freshDirectories();
    const keylog = join(workspace, 'keys.log');
    const result = await warren(
      [
        'run',
        '--dir',
        workspace,
        '--allow',
        'localhost',
        '--keylog',
        keylog,
        '--',
        'sh',
        '-c',
        `curl -sS --noproxy '' https://localhost:${https.port}/tls`,
      ],
      { env: environment(home) },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('secure hello');
    expect(result.code).toBe(0);
    const flows = await warren(['flows', '--json'], { env: environment(home) });
    const flow = JSON.parse(flows.stdout.trim().split('\n').at(-1)!) as {
      url: string;
      tls: { mode: string; sni?: string };
    };
    expect(flow.url).toBe(`https://localhost:${https.port}/tls`);
    expect(flow.tls.mode).toBe('intercepted');
    expect(readFileSync(keylog, 'utf8')).toMatch(
      /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET) [0-9a-f]{64} [0-9a-f]+$/m,
    );
  });

  it('serves the model gateway to the sandbox with its session token, never the host key', async () => {
    const upstream: FakeLlm = await startFakeOpenAi();
    try {
      const { home, workspace } = freshDirectories();
      writeFileSync(
        join(home, 'warren.yaml'),
        `model_list:\n  - model_name: local-qwen\n    litellm_params:\n      model: openai/qwen\n      api_base: ${upstream.url}/v1\n      api_key: os.environ/UPSTREAM_KEY\n`,
      );
      const body = JSON.stringify({ model: 'local-qwen', messages: [{ role: 'user', content: 'hi' }] });
      const script = `curl -sS "$OPENAI_BASE_URL/chat/completions" -H "Authorization: Bearer $OPENAI_API_KEY" -H 'content-type: application/json' -d '${body}'`;
      const result = await warren(['run', '--dir', workspace, '--', 'sh', '-c', script], {
        env: { ...environment(home), UPSTREAM_KEY: 'sk-upstream-real-key' },
      });
      expect(result.stderr).toBe('');
      const answer = JSON.parse(result.stdout) as { choices: Array<{ message: { content: string } }> };
      expect(answer.choices[0]!.message.content).toContain('Hello from the fake upstream');
      // The real provider key went from the host to the upstream, not through the sandbox.
      expect(upstream.requests[0]!.headers.authorization).toBe('Bearer sk-upstream-real-key');
      const usage = await warren(['usage', '--json'], { env: environment(home) });
      expect(usage.code).toBe(0);
      expect(usage.stdout).toContain('local-qwen');
    } finally {
      await upstream.close();
    }
  });

  it('gives the sandbox a placeholder for a configured secret and swaps it in only for its host', async () => {
    const { home, workspace } = freshDirectories();
    writeFileSync(
      join(home, 'warren.yaml'),
      `secrets:\n  - name: SERVICE_TOKEN\n    env: HOST_SERVICE_TOKEN\n    hosts: ["localhost:${http.port}"]\n`,
    );
    const script = [
      'echo "inside: $SERVICE_TOKEN"',
      `curl -sS --noproxy '' -H "Authorization: Bearer $SERVICE_TOKEN" http://localhost:${http.port}/with-secret`,
      `curl -sS --noproxy '' -o /dev/null -w ' other:%{http_code}' -H "Authorization: Bearer $SERVICE_TOKEN" http://127.0.0.1:${http.port}/elsewhere`,
    ].join('; ');
    const before = http.seen.length;
    const result = await warren(
      [
        'run',
        '--dir',
        workspace,
        '--allow',
        `localhost:${http.port}`,
        '--allow',
        `127.0.0.1:${http.port}`,
        '--',
        'sh',
        '-c',
        script,
      ],
      { env: { ...environment(home), HOST_SERVICE_TOKEN: 'real-service-token-0123456789' } },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^inside: warren-placeholder-service-token-[0-9a-f]+\n/);
    expect(result.stdout).not.toContain('real-service-token');
    expect(result.stdout).toMatch(/plain hello other:403$/);
    const seen = http.seen.slice(before);
    expect(seen.map((request) => request.url)).toEqual(['/with-secret']);
    expect(seen[0]!.headers.authorization).toBe('Bearer real-service-token-0123456789');
  });

  it('refuses bad input with clear errors and exit status 2', async () => {
    const { home, workspace } = freshDirectories();
    const env = environment(home);
    const noCommand = await warren(['run', '--dir', workspace], { env });
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toMatch(/no command given/);
    const badRule = await warren(['run', '--dir', workspace, '--allow', '*.com', '--', 'true'], { env });
    expect(badRule.code).toBe(2);
    expect(badRule.stderr).toMatch(/\*\.com/);
    const badDir = await warren(['run', '--dir', join(workspace, 'missing'), '--', 'true'], { env });
    expect(badDir.code).toBe(2);
    expect(badDir.stderr).toMatch(/is not a directory/);
    const badDriver = await warren(['run', '--dir', workspace, '--driver', 'nope', '--', 'true'], { env });
    expect(badDriver.code).toBe(1);
    expect(badDriver.stderr).toMatch(/Unknown sandbox driver "nope"/);
    const badFlag = await warren(['run', '--bogus', '--', 'true'], { env });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/usage: warren run/);
  });

  it('prints help, the CA path, and an empty flow list', async () => {
    const { home } = freshDirectories();
    const env = environment(home);
    const help = await warren(['--help'], { env });
    expect(help.stdout).toMatch(/run\s+run a command in a contained, observed sandbox/);
    const runHelp = await warren(['run', '--help'], { env });
    expect(runHelp.stdout).toContain('--allow RULE');
    const ca = await warren(['ca'], { env });
    expect(existsSync(ca.stdout.trim())).toBe(true);
    const flows = await warren(['flows'], { env });
    expect(flows.code).toBe(0);
    expect(flows.stderr).toMatch(/no flows recorded yet/);
  });
});
