import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGateway, parseGatewayConfig } from '../src/gateway/index.js';
import { openStore } from '../src/store/index.js';

/**
 * Model gateway bench: added latency (p50/p99) and throughput of the gateway against calling the
 * fake upstream directly, non-streaming and streaming (time to first token), in one run.
 *
 *   npx vite-node bench/gateway.ts [--requests N] [--seconds S] [--connections C] [--portkey URL]
 *
 * The upstream runs in a child process; the gateway runs here with the real SQLite usage sink and
 * master-key auth. Latency is measured with one request at a time over a keep-alive connection;
 * throughput with wrk (Debian package `wrk`). With --portkey, a running @portkey-ai/gateway
 * (`npx @portkey-ai/gateway --port=8787 --headless`) is measured the same way on the non-streaming
 * scenarios, for comparison (its streaming failed here with "TypeError: immutable").
 */

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const requests = argument('requests', 1000);
const seconds = argument('seconds', 5);
const connections = argument('connections', 32);
const masterKey = 'sk-bench';
const portkeyIndex = process.argv.indexOf('--portkey');
const portkeyUrl = portkeyIndex === -1 ? undefined : process.argv[portkeyIndex + 1];

interface Target {
  label: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Text whose arrival counts as the first token. */
  firstToken: string;
}

async function startUpstream(): Promise<{
  child: ChildProcess;
  openai: string;
  anthropic: string;
  pacedOpenai: string;
}> {
  const child = spawn(
    process.execPath,
    ['node_modules/vite-node/vite-node.mjs', 'bench/gateway-upstream.ts'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench upstream exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { openai: string; anthropic: string; pacedOpenai: string }) };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request; resolves with [time to first token, total] in milliseconds. */
function timeOne(target: Target): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstToken = -1;
    let seen = '';
    const call = request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: { ...target.headers, 'content-length': Buffer.byteLength(target.body) },
      },
      (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (firstToken < 0) {
            seen += chunk;
            if (seen.includes(target.firstToken)) firstToken = performance.now() - started;
          }
        });
        response.on('end', () => {
          if (response.statusCode !== 200)
            reject(new Error(`${target.label}: status ${response.statusCode}: ${seen.slice(0, 300)}`));
          else resolve([firstToken, performance.now() - started]);
        });
      },
    );
    call.on('error', reject);
    call.end(target.body);
  });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function latency(target: Target, count: number) {
  for (let index = 0; index < Math.min(200, count); index++) await timeOne(target);
  const first: number[] = [];
  const total: number[] = [];
  for (let index = 0; index < count; index++) {
    const [ttft, all] = await timeOne(target);
    first.push(ttft);
    total.push(all);
  }
  first.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  return {
    p50: percentile(total, 0.5),
    p99: percentile(total, 0.99),
    ttft50: percentile(first, 0.5),
    ttft99: percentile(first, 0.99),
  };
}

/** Requests per second under wrk, and this process's CPU per request meanwhile (the gateway's cost when it is the target). */
function throughput(target: Target): Promise<{ rate: number; cpuMicrosPerRequest: number }> {
  const cpuBefore = process.cpuUsage();
  const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(target.body)}`,
      ...Object.entries(target.headers).map(
        ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
      ),
      '',
    ].join('\n'),
  );
  return new Promise((resolve, reject) => {
    const wrk = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, target.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    wrk.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    wrk.on('error', (error) =>
      reject(new Error(`wrk failed to start (install the Debian package wrk): ${error.message}`)),
    );
    wrk.on('exit', () => {
      const cpu = process.cpuUsage(cpuBefore);
      const match = /Requests\/sec:\s+([\d.]+)/.exec(output);
      const count = /(\d+) requests in/.exec(output);
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
      if (!match || !count) return reject(new Error(`wrk printed no rate:\n${output}`));
      if (errors) return reject(new Error(`${target.label}: ${errors[1]} failed responses under load`));
      resolve({ rate: Number(match[1]), cpuMicrosPerRequest: (cpu.user + cpu.system) / Number(count[1]) });
    });
  });
}

const upstream = await startUpstream();
const store = openStore(join(mkdtempSync(join(tmpdir(), 'warren-bench-db-')), 'warren.db'));
const usage = store.usage;
const gateway = createGateway({
  config: parseGatewayConfig(
    {
      model_list: [
        {
          model_name: 'bench',
          litellm_params: { model: 'openai/bench', api_base: `${upstream.openai}/v1`, api_key: 'sk-up' },
        },
        {
          model_name: 'bench-claude',
          litellm_params: { model: 'anthropic/bench', api_base: upstream.anthropic, api_key: 'sk-up' },
        },
        {
          model_name: 'bench-paced',
          litellm_params: { model: 'openai/bench', api_base: `${upstream.pacedOpenai}/v1`, api_key: 'sk-up' },
        },
      ],
      general_settings: { master_key: masterKey },
    },
    {},
  ),
  usage,
});
const address = await gateway.listen(0, '127.0.0.1');
const gatewayUrl = `http://127.0.0.1:${address.port}`;

const chat = (stream: boolean) =>
  JSON.stringify({
    model: 'bench',
    stream,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ],
    max_tokens: 64,
  });
const messages = (stream: boolean) =>
  JSON.stringify({
    model: 'bench',
    stream,
    max_tokens: 64,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Say hello' }],
  });
const json = { 'content-type': 'application/json' };
const auth = { ...json, authorization: `Bearer ${masterKey}` };

const paced = (stream: boolean) => chat(stream).replace('"bench"', '"bench-paced"');

/** Portkey routes by headers: provider and upstream base URL. */
const portkeyTarget = (upstreamBase: string): Target | undefined =>
  portkeyUrl
    ? {
        label: 'portkey',
        url: `${portkeyUrl}/v1/chat/completions`,
        body: chat(false),
        headers: {
          ...json,
          authorization: 'Bearer sk-up',
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${upstreamBase}/v1`,
        },
        firstToken: '"content":"Hell',
      }
    : undefined;

const scenarios: {
  name: string;
  direct: Target;
  gateway: Target;
  portkey?: Target | undefined;
  requests?: number;
}[] = [
  {
    name: 'OpenAI chat → OpenAI upstream, non-streaming',
    portkey: portkeyTarget(upstream.openai),
    direct: {
      label: 'direct',
      url: `${upstream.openai}/v1/chat/completions`,
      body: chat(false),
      headers: json,
      firstToken: '"content":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/chat/completions`,
      body: chat(false),
      headers: auth,
      firstToken: '"content":"Hell',
    },
  },
  {
    name: 'OpenAI chat → OpenAI upstream, streaming',
    direct: {
      label: 'direct',
      url: `${upstream.openai}/v1/chat/completions`,
      body: chat(true),
      headers: json,
      firstToken: '"content":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/chat/completions`,
      body: chat(true),
      headers: auth,
      firstToken: '"content":"Hell',
    },
  },
  {
    name: 'Anthropic messages → OpenAI upstream (translated), streaming',
    direct: {
      label: 'direct',
      url: `${upstream.openai}/v1/chat/completions`,
      body: chat(true),
      headers: json,
      firstToken: '"content":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/messages`,
      body: messages(true),
      headers: { ...json, 'x-api-key': masterKey },
      firstToken: '"text":"Hell',
    },
  },
  {
    name: 'Anthropic messages → Anthropic upstream, streaming',
    direct: {
      label: 'direct',
      url: `${upstream.anthropic}/v1/messages`,
      body: messages(true),
      headers: json,
      firstToken: '"text":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/messages`,
      body: messages(true).replace('"bench"', '"bench-claude"'),
      headers: { ...json, 'x-api-key': masterKey },
      firstToken: '"text":"Hell',
    },
  },
  {
    name: 'OpenAI chat, paced upstream (20 ms + 2 ms/event), non-streaming',
    portkey: portkeyTarget(upstream.pacedOpenai),
    requests: 200,
    direct: {
      label: 'direct',
      url: `${upstream.pacedOpenai}/v1/chat/completions`,
      body: chat(false),
      headers: json,
      firstToken: '"content":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/chat/completions`,
      body: paced(false),
      headers: auth,
      firstToken: '"content":"Hell',
    },
  },
  {
    name: 'OpenAI chat, paced upstream (20 ms + 2 ms/event), streaming',
    requests: 200,
    direct: {
      label: 'direct',
      url: `${upstream.pacedOpenai}/v1/chat/completions`,
      body: chat(true),
      headers: json,
      firstToken: '"content":"Hell',
    },
    gateway: {
      label: 'gateway',
      url: `${gatewayUrl}/v1/chat/completions`,
      body: paced(true),
      headers: auth,
      firstToken: '"content":"Hell',
    },
  },
];

const ms = (value: number) => value.toFixed(3);
const rows: string[] = [];
const portkeyRows: string[] = [];
try {
  for (const scenario of scenarios) {
    const direct = await latency(scenario.direct, scenario.requests ?? requests);
    const viaGateway = await latency(scenario.gateway, scenario.requests ?? requests);
    const directRate = (await throughput(scenario.direct)).rate;
    const { rate: gatewayRate, cpuMicrosPerRequest } = await throughput(scenario.gateway);
    const streaming = scenario.name.includes('streaming') && !scenario.name.includes('non-streaming');
    rows.push(
      `| ${scenario.name} | ${ms(direct.p50)} / ${ms(direct.p99)} | ${ms(viaGateway.p50)} / ${ms(viaGateway.p99)} | ` +
        `**${ms(viaGateway.p50 - direct.p50)}** | ${streaming ? `${ms(direct.ttft50)} / ${ms(viaGateway.ttft50)}` : '-'} | ` +
        `${directRate.toFixed(0)} | ${gatewayRate.toFixed(0)} | **${((100 * gatewayRate) / directRate).toFixed(0)}%** | ` +
        `${cpuMicrosPerRequest.toFixed(0)} |`,
    );
    if (scenario.portkey) {
      const viaPortkey = await latency(scenario.portkey, scenario.requests ?? requests);
      const portkeyRate = (await throughput(scenario.portkey)).rate;
      portkeyRows.push(
        `| ${scenario.name} | ${ms(viaPortkey.p50)} / ${ms(viaPortkey.p99)} | **${ms(viaPortkey.p50 - direct.p50)}** | ` +
          `${portkeyRate.toFixed(0)} | **${((100 * portkeyRate) / directRate).toFixed(0)}%** |`,
      );
    }
    process.stderr.write(`done: ${scenario.name}\n`);
  }
} finally {
  await gateway.close();
  store.close();
  upstream.child.kill();
  agent.destroy();
}
process.stdout.write(
  [
    `Node ${process.version}, ${requests} sequential requests per latency figure, wrk -t1 -c${connections} -d${seconds}s for throughput.`,
    '',
    '| Scenario | direct p50 / p99 (ms) | gateway p50 / p99 (ms) | added p50 (ms) | TTFT p50 direct / gateway (ms) | direct req/s | gateway req/s | gateway / direct | gateway CPU per call (µs) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(portkeyRows.length
      ? [
          '@portkey-ai/gateway, same upstreams and load:',
          '',
          '| Scenario | portkey p50 / p99 (ms) | added p50 (ms) | portkey req/s | portkey / direct |',
          '|---|---|---|---|---|',
          ...portkeyRows,
          '',
        ]
      : []),
  ].join('\n'),
);
