import { spawn as spawnTerminal } from '@lydell/node-pty';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeAnthropic, startFakeOpenAi, type FakeLlm } from '../../../../test/helpers/fake-llm.js';
import { startFakeResponses } from '../../../../test/helpers/fake-llm-responses.js';

/**
 * Captures the system prompts and instructions that current agent CLIs send, for the identity corpus.
 *
 *   unshare -rn sh -c 'ip link set lo up && npx vite-node src/gateway/__fixtures__/identity/capture.ts BIN_DIR'
 *
 * BIN_DIR holds `claude`, `codex` and `opencode` (e.g. the `node_modules/.bin` of a folder where
 * `npm install @anthropic-ai/claude-code @openai/codex opencode-ai` ran). Each CLI runs once per
 * variant with a fresh HOME against a loopback fake upstream that answers "Hello"; every request it
 * makes there is written to this folder as `<cli>-<variant>.json` (tool schemas reduced to their names,
 * the rest as sent). Run it in a network namespace with only loopback (as above) so that nothing leaves
 * the machine; the calls each CLI tries elsewhere are listed in `<cli>-<variant>.seen.txt`.
 */

const here = dirname(fileURLToPath(import.meta.url));
const binDir = process.argv[2];
if (!binDir) throw new Error('usage: capture.ts BIN_DIR');

interface Front {
  url: string;
  seen: string[];
  close(): void;
}

/** A logging front: every request is listed; model calls go on to the fake of their protocol. */
async function startFront(fakes: { anthropic: FakeLlm; chat: FakeLlm; responses: FakeLlm }): Promise<Front> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    seen.push(`${request.method} ${request.url}`);
    const target = path.endsWith('/messages')
      ? fakes.anthropic.url
      : path.endsWith('/chat/completions')
        ? fakes.chat.url
        : path.endsWith('/responses')
          ? fakes.responses.url
          : undefined;
    if (!target || request.method !== 'POST') {
      request.resume();
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":{"type":"not_found_error","message":"not here"}}');
      return;
    }
    const upstream = httpRequest(`${target}${path.startsWith('/v1') ? path : `/v1${path}`}`, {
      method: 'POST',
      headers: { ...request.headers, host: new URL(target).host },
    });
    upstream.on('response', (answer: IncomingMessage) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(join(binDir!, command), args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(`${output}\n(exit ${code})`);
    });
  });
}

/** Runs an interactive CLI in a terminal until it has made a model call (or 60 s), then ends it. */
function runInTerminal(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  calls: () => number,
): Promise<string> {
  return new Promise((resolve) => {
    const terminal = spawnTerminal(join(binDir!, command), args, {
      cols: 120,
      rows: 40,
      cwd,
      env: { ...env, TERM: 'xterm-256color' } as Record<string, string>,
    });
    let output = '';
    terminal.onData((data) => (output += data));
    const started = Date.now();
    const poll = setInterval(() => {
      if (calls() === 0 && Date.now() - started < 60_000) return;
      clearInterval(poll);
      // A few seconds more for the calls that follow the first (titles, summaries).
      setTimeout(() => {
        terminal.kill();
        // Terminal escapes and control characters out, so the transcript reads as text.
        resolve(
          output
            .replace(/\x1b\[[0-9;?<>]*[a-zA-Z]|\x1b\][^\x07]*\x07|\x1b./g, '')
            .replace(/\r\n?/g, '\n')
            .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
            .replace(/\n{3,}/g, '\n\n'),
        );
      }, 8_000);
    }, 250);
  });
}

/**
 * Tool schemas say nothing about identity and are most of the bytes: each tool keeps its name and type
 * and the first words of its description, with an empty object schema, so the request still parses.
 */
function reducedTool(tool: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...tool };
  if (typeof copy.description === 'string') copy.description = copy.description.slice(0, 120);
  if (copy.input_schema !== undefined) copy.input_schema = { type: 'object' };
  if (copy.parameters !== undefined) copy.parameters = { type: 'object' };
  if (typeof copy.format === 'object' && copy.format !== null) copy.format = { type: 'text' };
  if (typeof copy.function === 'object' && copy.function !== null)
    copy.function = reducedTool(copy.function as Record<string, unknown>);
  return copy;
}

function reduced(body: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(body.tools) ? { ...body, tools: body.tools.map(reducedTool) } : body;
}

async function version(command: string): Promise<string> {
  return (await run(command, ['--version'], process.env, tmpdir())).split('\n')[0]!.trim();
}

interface Variant {
  cli: 'claude' | 'codex' | 'opencode';
  name: string;
  /** Run in a terminal (the interactive TUI) instead of with pipes. */
  terminal?: boolean;
  prepare(home: string, front: Front): { args: string[]; env: Record<string, string> };
}

/**
 * Claude Code's first-run state, so the TUI starts without its onboarding screens. With a key in
 * ANTHROPIC_AUTH_TOKEN (not ANTHROPIC_API_KEY) it neither asks to approve the key nor checks that
 * api.anthropic.com is reachable.
 */
function seedClaudeState(home: string): void {
  writeFileSync(
    join(home, '.claude.json'),
    JSON.stringify({
      hasCompletedOnboarding: true,
      theme: 'dark',
      projects: { [join(home, 'project')]: { hasTrustDialogAccepted: true } },
    }),
  );
}

function opencodeConfig(home: string, front: Front, npm: string, model: string, base: string): void {
  const dir = join(home, '.config', 'opencode');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'opencode.json'),
    JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      provider: {
        warren: {
          npm,
          name: 'Warren',
          options: { baseURL: `${front.url}${base}`, apiKey: 'sk-capture' },
          models: { [model]: { name: model } },
        },
      },
      model: `warren/${model}`,
    }),
  );
}

const variants: Variant[] = [
  {
    cli: 'claude',
    name: 'default-model',
    prepare: (_home, front) => ({
      args: ['-p', 'hi'],
      env: { ANTHROPIC_BASE_URL: front.url, ANTHROPIC_API_KEY: 'sk-ant-capture' },
    }),
  },
  {
    cli: 'claude',
    name: 'sonnet',
    prepare: (_home, front) => ({
      args: ['-p', 'hi', '--model', 'sonnet'],
      env: { ANTHROPIC_BASE_URL: front.url, ANTHROPIC_API_KEY: 'sk-ant-capture' },
    }),
  },
  {
    cli: 'claude',
    name: 'opus-1m',
    prepare: (_home, front) => ({
      args: ['-p', 'hi'],
      env: {
        ANTHROPIC_BASE_URL: front.url,
        ANTHROPIC_API_KEY: 'sk-ant-capture',
        ANTHROPIC_MODEL: 'claude-opus-4-8[1m]',
      },
    }),
  },
  {
    cli: 'claude',
    name: 'other-model',
    prepare: (_home, front) => ({
      args: ['-p', 'hi', '--model', 'grok-4'],
      env: { ANTHROPIC_BASE_URL: front.url, ANTHROPIC_API_KEY: 'sk-ant-capture' },
    }),
  },
  {
    cli: 'claude',
    name: 'interactive',
    terminal: true,
    prepare: (home, front) => {
      seedClaudeState(home);
      return { args: ['hi'], env: { ANTHROPIC_BASE_URL: front.url, ANTHROPIC_AUTH_TOKEN: 'sk-capture' } };
    },
  },
  {
    cli: 'claude',
    name: 'interactive-other-model',
    terminal: true,
    prepare: (home, front) => {
      seedClaudeState(home);
      return {
        args: ['--model', 'grok-4', 'hi'],
        env: { ANTHROPIC_BASE_URL: front.url, ANTHROPIC_AUTH_TOKEN: 'sk-capture' },
      };
    },
  },
  {
    cli: 'claude',
    name: 'agent-sdk-entrypoint',
    prepare: (_home, front) => ({
      args: ['-p', 'hi'],
      env: {
        ANTHROPIC_BASE_URL: front.url,
        ANTHROPIC_API_KEY: 'sk-ant-capture',
        CLAUDE_CODE_ENTRYPOINT: 'sdk-ts',
      },
    }),
  },
  ...['default-model', 'gpt-5.5', 'gpt-5-codex', 'grok-4'].map(
    (model): Variant => ({
      cli: 'codex',
      name: model,
      prepare: (home, front) => {
        const codexHome = join(home, '.codex');
        mkdirSync(codexHome, { recursive: true });
        writeFileSync(
          join(codexHome, 'config.toml'),
          [
            ...(model === 'default-model' ? [] : [`model = "${model}"`]),
            'model_provider = "warren"',
            '[model_providers.warren]',
            'name = "Warren"',
            `base_url = "${front.url}/v1"`,
            'env_key = "WARREN_KEY"',
            'wire_api = "responses"',
          ].join('\n'),
        );
        return {
          args: ['exec', '--skip-git-repo-check', 'hi'],
          env: { CODEX_HOME: codexHome, WARREN_KEY: 'sk-capture' },
        };
      },
    }),
  ),
  ...['claude-sonnet-4-5', 'gpt-5', 'gpt-4.1', 'gemini-2.5-pro', 'grok-4'].map(
    (model): Variant => ({
      cli: 'opencode',
      name: `chat-${model}`,
      prepare: (home, front) => {
        opencodeConfig(home, front, '@ai-sdk/openai-compatible', model, '/v1');
        return { args: ['run', 'hi'], env: { OPENCODE_DISABLE_AUTOUPDATE: '1' } };
      },
    }),
  ),
  {
    cli: 'opencode',
    name: 'anthropic-claude-sonnet-4-5',
    prepare: (home, front) => {
      opencodeConfig(home, front, '@ai-sdk/anthropic', 'claude-sonnet-4-5', '/v1');
      return { args: ['run', 'hi'], env: { OPENCODE_DISABLE_AUTOUPDATE: '1' } };
    },
  },
];

const only = process.argv[3];
const fakes = {
  anthropic: await startFakeAnthropic({ reply: () => ({ kind: 'answer', text: 'Hello' }) }),
  chat: await startFakeOpenAi({ reply: () => ({ kind: 'answer', text: 'Hello' }) }),
  responses: await startFakeResponses({ reply: () => ({ kind: 'answer', text: 'Hello' }) }),
};
const versions: Record<string, string> = {};
for (const cli of ['claude', 'codex', 'opencode']) versions[cli] = await version(cli);
for (const variant of variants) {
  if (only && !`${variant.cli}-${variant.name}`.includes(only)) continue;
  const front = await startFront(fakes);
  for (const fake of Object.values(fakes)) fake.requests.length = 0;
  const home = mkdtempSync(join(tmpdir(), 'agent-capture-'));
  const work = join(home, 'project');
  mkdirSync(work);
  const { args, env } = variant.prepare(home, front);
  const processEnv = { PATH: process.env.PATH, HOME: home, TERM: 'dumb', LANG: 'C.UTF-8', ...env };
  const calls = () => Object.values(fakes).reduce((sum, fake) => sum + fake.requests.length, 0);
  const output = variant.terminal
    ? await runInTerminal(variant.cli, args, processEnv, work, calls)
    : await run(variant.cli, args, processEnv, work);
  front.close();
  const requests = Object.entries(fakes).flatMap(([protocol, fake]) =>
    fake.requests.map((request) => ({ protocol, path: request.path, body: reduced(request.body) })),
  );
  const name = `${variant.cli}-${variant.name}`;
  writeFileSync(
    join(here, `${name}.json`),
    `${JSON.stringify({ cli: variant.cli, version: versions[variant.cli], variant: variant.name, args, requests }, null, 2)}\n`,
  );
  writeFileSync(join(here, `${name}.seen.txt`), `${front.seen.join('\n')}\n---\n${output}\n`);
  console.log(`${name}: ${requests.length} model call(s), ${front.seen.length} request(s) seen`);
}
for (const fake of Object.values(fakes)) await fake.close();
