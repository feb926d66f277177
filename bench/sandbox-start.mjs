// Median wall time of running `true` through Warren's bwrap driver (plan + spawn + exit + cleanup) against
// plain `bwrap --ro-bind /usr /usr … true`, measured alternately in one run.
// Usage: npx tsc -p tsconfig.build.json && node bench/sandbox-start.mjs [iterations]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBwrapDriver } from '../dist/sandbox/index.js';

const iterations = Number(process.argv[2] ?? 30);
const root = mkdtempSync(join(tmpdir(), 'warren-bench-sandbox-'));
const workspace = join(root, 'workspace');
const socketPath = join(root, 'proxy.sock');
await import('node:fs/promises').then((fs) => fs.mkdir(workspace));
const proxy = createServer((_request, response) => response.end('ok'));
await new Promise((resolve) => proxy.listen(socketPath, resolve));

const bareArgs = ['--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr'];
bareArgs.push(
  '--symlink',
  'usr/bin',
  '/bin',
  '--symlink',
  'usr/lib',
  '/lib',
  '--symlink',
  'usr/lib64',
  '/lib64',
);
bareArgs.push('--proc', '/proc', '--dev', '/dev', 'true');

function spawnAndWait(file, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} exited ${code}: ${stderr}`)),
    );
  });
}

const driver = createBwrapDriver();
const base = { sessionId: 'bench', workspace, command: ['true'] };
const scenarios = {
  'bare bwrap true': () => spawnAndWait('bwrap', bareArgs, { PATH: '/usr/bin:/bin' }),
  'driver, no proxy': () => throughDriver(base),
  'driver, proxy bridge': () => throughDriver({ ...base, proxy: { socketPath } }),
  'driver, proxy + pids/memory cgroups': () =>
    throughDriver({ ...base, proxy: { socketPath }, limits: { pids: 256, memoryBytes: 512 * 1024 * 1024 } }),
};

async function throughDriver(spec) {
  const plan = await driver.plan(spec);
  try {
    await spawnAndWait(plan.file, plan.args, plan.env);
  } finally {
    await plan.cleanup();
  }
}

const times = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
for (const run of Object.values(scenarios)) await run(); // warm-up
for (let index = 0; index < iterations; index += 1) {
  for (const [name, run] of Object.entries(scenarios)) {
    const start = process.hrtime.bigint();
    await run();
    times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
proxy.close();
rmSync(root, { recursive: true, force: true });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = median(times['bare bwrap true']);
console.log(`iterations: ${iterations}`);
for (const [name, values] of Object.entries(times)) {
  const value = median(values);
  console.log(
    `${name.padEnd(38)} median ${value.toFixed(1).padStart(6)} ms   ${(value / bare).toFixed(2)}x bare`,
  );
}
