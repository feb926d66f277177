import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';

/**
 * `warren serve` under load: N sandboxed sessions each stream `yes | head -c BYTES` into their PTY
 * while V viewers per session watch (all but one acknowledge what they draw; the last never does, to
 * show that a stalled viewer costs bounded memory and holds nothing back). Meanwhile the JSON API is
 * polled and its latency recorded, and the server's RSS sampled.
 *
 *   npm run build && npx vite-node bench/serve-load.ts [--sessions 20] [--viewers 3] [--megabytes 50]
 */

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const sessionCount = argument('sessions', 20);
const viewersPerSession = argument('viewers', 3);
const megabytes = argument('megabytes', 50);

const percentile = (values: number[], fraction: number) => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
};

function rssMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const home = mkdtempSync(join(tmpdir(), 'warren-bench-serve-'));
const server = spawn(process.execPath, ['bin/warren.js', 'serve', '--port', '0'], {
  env: { ...process.env, WARREN_HOME: home },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
while (!/#\/setup\/\S+/.test(output)) await new Promise((resolve) => setTimeout(resolve, 50));
const origin = (/serving on (\S+)/.exec(output)?.[1] as string).replace(/\/$/, '');
const token = /#\/setup\/(\S+)/.exec(output)?.[1];
const setup = await fetch(`${origin}/api/setup`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Origin: origin },
  body: JSON.stringify({ token, password: 'bench password 123' }),
});
const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] as string;
const { csrfToken } = (await setup.json()) as { csrfToken: string };
const baselineRss = rssMegabytes(server.pid as number);

const bytes = megabytes * 1024 * 1024;
const started = performance.now();
const sessions: string[] = [];
for (let index = 0; index < sessionCount; index += 1) {
  const response = await fetch(`${origin}/api/sessions`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Origin: origin,
      Cookie: cookie,
      'X-CSRF-Token': csrfToken,
    },
    // The pause lets viewers attach before the flood, and lets the tail drain before exit.
    body: JSON.stringify({
      agent: 'custom',
      command: `sleep 1; yes | head -c ${bytes}; echo; echo BENCH-END; sleep 2`,
      cols: 120,
      rows: 40,
    }),
  });
  if (response.status !== 201) throw new Error(`create: ${response.status} ${await response.text()}`);
  sessions.push(((await response.json()) as { session: { id: string } }).session.id);
}

interface Viewer {
  received: number;
  snapshots: number;
  exited: boolean;
}
const viewers: Viewer[] = [];
const sockets: WebSocket[] = [];
for (const id of sessions) {
  for (let index = 0; index < viewersPerSession; index += 1) {
    const acknowledges = index < viewersPerSession - 1;
    const viewer: Viewer = { received: 0, snapshots: 0, exited: false };
    viewers.push(viewer);
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/api/sessions/${id}/terminal`, {
      headers: { Cookie: cookie, Origin: origin },
    });
    sockets.push(socket);
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        const length = (data as Buffer).length;
        viewer.received += length;
        if (acknowledges) socket.send(JSON.stringify({ type: 'ack', bytes: length }));
        return;
      }
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === 'terminal-snapshot') viewer.snapshots += 1;
      if (message.type === 'terminal-exited') viewer.exited = true;
    });
  }
}

const latencies: number[] = [];
let peakRss = baselineRss;
const sessionsEnded = async () => {
  const response = await fetch(`${origin}/api/sessions`, { headers: { Cookie: cookie } });
  const { sessions: rows } = (await response.json()) as { sessions: { state: string }[] };
  return rows.every((row) => row.state !== 'running');
};
for (;;) {
  const before = performance.now();
  const path =
    latencies.length % 2 === 0
      ? '/api/sessions'
      : `/api/sessions/${sessions[latencies.length % sessions.length]}`;
  const response = await fetch(`${origin}${path}`, { headers: { Cookie: cookie } });
  await response.arrayBuffer();
  latencies.push(performance.now() - before);
  peakRss = Math.max(peakRss, rssMegabytes(server.pid as number));
  if (latencies.length % 20 === 0 && (await sessionsEnded())) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const seconds = (performance.now() - started) / 1000;
const acknowledging = viewers.filter((_, index) => index % viewersPerSession < viewersPerSession - 1);
const stalled = viewers.filter((_, index) => index % viewersPerSession === viewersPerSession - 1);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log(
  JSON.stringify(
    {
      sessions: sessionCount,
      viewersPerSession,
      megabytesPerSession: megabytes,
      seconds: Number(seconds.toFixed(1)),
      aggregateMegabytesPerSecond: Number(((sessionCount * megabytes) / seconds).toFixed(1)),
      apiRequests: latencies.length,
      apiP50Ms: Number(percentile(latencies, 0.5).toFixed(1)),
      apiP99Ms: Number(percentile(latencies, 0.99).toFixed(1)),
      apiMaxMs: Number(Math.max(...latencies).toFixed(1)),
      serverRssBaselineMb: Math.round(baselineRss),
      serverRssPeakMb: Math.round(peakRss),
      acknowledgingViewerMeanMb: Number(
        (mean(acknowledging.map((viewer) => viewer.received)) / 1048576).toFixed(1),
      ),
      acknowledgingViewerSnapshotsMean: Number(
        mean(acknowledging.map((viewer) => viewer.snapshots)).toFixed(1),
      ),
      stalledViewerMaxMb: Number(
        (Math.max(...stalled.map((viewer) => viewer.received)) / 1048576).toFixed(2),
      ),
      viewersThatSawTheExit: viewers.filter((viewer) => viewer.exited).length,
    },
    null,
    2,
  ),
);
for (const socket of sockets) socket.close();
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
rmSync(home, { recursive: true, force: true });
