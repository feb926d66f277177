import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOciDriver, type SandboxSpec } from '../src/sandbox/index.js';
import { ensureTestImage } from '../test/helpers/rootfs.js';

/**
 * Median session start with the podman driver against a bare `podman run --rm IMAGE true`, alternately in one run.
 *
 *   npx vite-node bench/sandbox-oci-start.ts [iterations]
 *
 * "Start" is plan + spawn until `true` has exited (what a user waits for before the agent's first output, plus
 * the exit); the driver's cleanup (`podman rm --force`, which finds the container already gone thanks to --rm)
 * runs after the session and is reported separately. The bare run gets only the flags this host needs for any
 * container to start (--network none, --runtime runc on cgroup v1, --ulimit at or under the hard limits), taken from the
 * driver's own host facts; the image is the test image built from host binaries (test/helpers/rootfs.ts).
 */
const iterations = Number(process.argv[2] ?? 20);
const image = await ensureTestImage();
const root = mkdtempSync(join(tmpdir(), 'warren-bench-oci-'));
const workspace = join(root, 'workspace');
mkdirSync(workspace);
const socketPath = join(root, 'proxy.sock');
const proxy = createServer((_request, response) => response.end('ok'));
await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));

function spawnAndWait(file: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} exited ${code}: ${stderr}`)),
    );
  });
}

const driver = createOciDriver({ image, instance: 'bench' });
// The driver's first plan detects the host facts (podman info); read the flags a bare run needs from it.
const probe = await driver.plan({ sessionId: 'bench-probe', workspace, command: ['true'] });
await probe.cleanup();
const needed = (flag: string) =>
  probe.args.flatMap((arg, index) => (arg === flag ? [flag, probe.args[index + 1] as string] : []));
// --network none too: a default (bridged) network needs netavark, which this host lacks.
const bareArgs = [
  'run',
  '--rm',
  '--network',
  'none',
  ...needed('--runtime'),
  ...needed('--ulimit'),
  image,
  'true',
];
const environment = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

const cleanupTimes: number[] = [];
async function throughDriver(spec: SandboxSpec) {
  const plan = await driver.plan(spec);
  try {
    await spawnAndWait(plan.file, plan.args, plan.env);
  } finally {
    const started = process.hrtime.bigint();
    await plan.cleanup();
    cleanupTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}

const base: SandboxSpec = { sessionId: 'bench', workspace, command: ['true'] };
const scenarios: Record<string, () => Promise<void>> = {
  [`bare podman run --rm IMAGE true`]: () => spawnAndWait('podman', bareArgs, environment),
  'driver, no proxy': () => throughDriver(base),
  'driver, proxy bridge': () => throughDriver({ ...base, proxy: { socketPath } }),
  'driver, proxy + memory/pids/cpus': () =>
    throughDriver({
      ...base,
      proxy: { socketPath },
      limits: { memoryBytes: 512 * 1024 * 1024, pids: 256, cpus: 1 },
    }),
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
for (const run of Object.values(scenarios)) await run(); // warm-up
cleanupTimes.length = 0;
for (let index = 0; index < iterations; index += 1)
  for (const [name, run] of Object.entries(scenarios)) {
    const started = process.hrtime.bigint();
    // The driver's cleanup is timed inside throughDriver and subtracted: it runs after the session is over.
    const cleanupsBefore = cleanupTimes.length;
    await run();
    const cleanup = cleanupTimes.length > cleanupsBefore ? (cleanupTimes.at(-1) ?? 0) : 0;
    times[name]?.push(Number(process.hrtime.bigint() - started) / 1e6 - cleanup);
  }
proxy.close();
rmSync(root, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const bare = median(times['bare podman run --rm IMAGE true'] ?? []);
console.log(`iterations: ${iterations}; bare flags: ${bareArgs.slice(2, -2).join(' ')}`);
for (const [name, values] of Object.entries(times)) {
  const value = median(values);
  console.log(
    `${name.padEnd(36)} median ${value.toFixed(1).padStart(7)} ms   ${(value / bare).toFixed(2)}x bare`,
  );
}
console.log(`driver cleanup (rm --force after --rm)  median ${median(cleanupTimes).toFixed(1)} ms`);
