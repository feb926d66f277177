// Egress proxy benchmark: Warren's proxy (recording into SQLite) against mitmdump, same upstream, same
// wrk script, same run. Usage: npm run build && node bench/proxy.mjs [--duration 10] [--connections 8]
// [--rounds 5]: the duration is split into rounds alternating Warren and mitmdump, so that load from
// other processes on a shared machine hits both alike.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const duration = argument('duration', 10);
const connections = argument('connections', 8);
const rounds = argument('rounds', 5);
const children = [];
let clockTicks = 100;

function startChild(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const firstLine = new Promise((resolve, reject) => {
    child.on('error', reject);
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0].trim());
    });
    child.on('exit', (code) => reject(new Error(`${command} exited (${code}): ${stderr}`)));
  });
  firstLine.catch(() => undefined); // awaited by callers that need it; an exit afterwards is expected
  return { child, firstLine, stderr: () => stderr };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
async function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / clockTicks;
}

/** Runs wrk and measures the proxy process's CPU time over the same interval. */
async function measure(pid, proxyPort, target, seconds) {
  const before = await cpuSeconds(pid);
  const result = await wrk(proxyPort, target, seconds);
  const cpu = (await cpuSeconds(pid)) - before;
  const requests = result.requestsPerSecond * seconds;
  return { ...result, cpuSeconds: cpu, cpuMicrosecondsPerRequest: Math.round((cpu / requests) * 1e6) };
}

async function wrk(proxyPort, target, seconds) {
  const args = [
    `-c${connections}`,
    '-t1',
    `-d${seconds}s`,
    '-s',
    join(here, 'proxy-wrk.lua'),
    `http://127.0.0.1:${proxyPort}/`,
  ];
  const { stdout } = await run('wrk', args, { env: { ...process.env, WARREN_BENCH_TARGET: target } });
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const failures = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(stdout)?.[0];
  const latency = /Latency\s+(\S+)/.exec(stdout)?.[1];
  return { requestsPerSecond, failures, errors, latency, command: `wrk ${args.join(' ')}` };
}

function combine(slices) {
  const requests = slices.reduce((sum, slice) => sum + slice.requestsPerSecond * slice.seconds, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  const cpu = slices.reduce((sum, slice) => sum + slice.cpuSeconds, 0);
  return {
    requestsPerSecond: Math.round(requests / seconds),
    cpuMicrosecondsPerRequest: Math.round((cpu / requests) * 1e6),
    failures: slices.reduce((sum, slice) => sum + slice.failures, 0),
    socketErrors: slices.map((slice) => slice.errors).filter(Boolean),
    latency: slices.map((slice) => slice.latency),
    command: slices[0].command,
  };
}

const round2 = (value) => Math.round(value * 100) / 100;

async function main() {
  for (const tool of ['wrk', 'mitmdump']) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => {
      throw new Error(`${tool} is missing: apt-get install ${tool === 'wrk' ? 'wrk' : 'mitmproxy'}`);
    });
  }
  clockTicks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const upstream = startChild(process.execPath, [join(here, 'proxy-upstream.mjs')]);
  const upstreamPort = Number(await upstream.firstLine);
  const target = `http://127.0.0.1:${upstreamPort}/bench`;

  const warren = startChild(process.execPath, [join(here, 'proxy-warren.mjs')]);
  const warrenPort = Number(await warren.firstLine);
  const confdir = mkdtempSync(join(tmpdir(), 'warren-bench-mitm-'));
  const mitmPort = await freePort();
  const mitm = startChild('mitmdump', [
    ...['--listen-host', '127.0.0.1', '--listen-port', String(mitmPort), '-q', '--set', `confdir=${confdir}`],
  ]);
  await waitForPort(mitmPort);
  await wrk(warrenPort, target, 2); // warm-up: JIT, pools
  await wrk(mitmPort, target, 2);

  // Alternate short slices so that load from other processes on a shared machine hits both alike.
  const warrenSlices = [];
  const mitmSlices = [];
  const slice = duration / rounds;
  for (let round = 0; round < rounds; round++) {
    warrenSlices.push({ ...(await measure(warren.child.pid, warrenPort, target, slice)), seconds: slice });
    mitmSlices.push({ ...(await measure(mitm.child.pid, mitmPort, target, slice)), seconds: slice });
  }
  const recorded = new Promise((resolve) =>
    warren.child.on('exit', () => resolve(/recorded (\d+)/.exec(warren.stderr())?.[1])),
  );
  warren.child.kill('SIGTERM');
  const recordedFlows = Number(await recorded);
  mitm.child.kill('SIGTERM');
  rmSync(confdir, { recursive: true, force: true });

  const warrenResult = combine(warrenSlices);
  const mitmResult = combine(mitmSlices);
  const report = {
    upstream: '1 KiB body, keep-alive, loopback',
    connections,
    durationSeconds: duration,
    rounds,
    warren: { ...warrenResult, recordedFlows },
    mitmdump: mitmResult,
    ratio: round2(warrenResult.requestsPerSecond / mitmResult.requestsPerSecond),
    roundRatios: warrenSlices.map((one, index) =>
      round2(one.requestsPerSecond / mitmSlices[index].requestsPerSecond),
    ),
    cpuPerRequestRatio: round2(mitmResult.cpuMicrosecondsPerRequest / warrenResult.cpuMicrosecondsPerRequest),
    loadAverage: loadavg().map(round2),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main()
  .catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM')));
