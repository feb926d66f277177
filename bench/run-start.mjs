// Median wall time of `warren run -- true` against plain `bwrap … true`, measured alternately in one run.
// Usage: npm run build && node bench/run-start.mjs [iterations]
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const iterations = Number(process.argv[2] ?? 20);
const home = mkdtempSync(join(tmpdir(), 'warren-bench-home-'));
const workspace = mkdtempSync(join(tmpdir(), 'warren-bench-ws-'));
const env = { ...process.env, WARREN_HOME: home };

const bare = [
  'bwrap',
  [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    'true',
  ],
];
const warren = ['node', ['bin/warren.js', 'run', '--dir', workspace, '--', 'true']];

function time([file, args]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr}`);
  return elapsed;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
time(warren); // first run creates the CA and database
const bareTimes = [];
const warrenTimes = [];
for (let index = 0; index < iterations; index += 1) {
  bareTimes.push(time(bare));
  warrenTimes.push(time(warren));
}
const bareMedian = median(bareTimes);
const warrenMedian = median(warrenTimes);
console.log(`iterations: ${iterations}`);
console.log(`bare bwrap true:        median ${bareMedian.toFixed(1)} ms`);
console.log(`warren run -- true:     median ${warrenMedian.toFixed(1)} ms`);
console.log(`ratio (warren / bwrap): ${(warrenMedian / bareMedian).toFixed(1)}x`);
