import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';

/**
 * The escape tests of the driver contract, again as an unprivileged user: Warren run by root (CI, servers,
 * containers) and by a normal user take different paths (host-identity.ts), and both must hold. As root this runs
 * the contract suites in a child vitest as WARREN_TEST_USER (default warren-test; `.ci/run` creates it). Run as a
 * normal user, the whole suite already is the unprivileged run, and this file has nothing to add.
 */
const TEST_USER = process.env.WARREN_TEST_USER ?? 'warren-test';
const REPOSITORY = resolve(import.meta.dirname, '../..');
const asRoot = process.getuid?.() === 0;

interface AssertionResult {
  fullName: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  failureMessages: string[];
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim();
  return { uid: Number(result.stdout.trim()), gid: Number(gid) };
}

const scratch: string[] = [];
afterAll(() => {
  for (const path of scratch) rmSync(path, { recursive: true, force: true });
});

/**
 * Runs vitest on `files` as the test user and returns every test's result. The checkout may lie where that user
 * cannot search (a clone under /root): it is bind-mounted, in a private mount namespace, at a folder in /tmp.
 */
async function runAsTestUser(
  user: { uid: number; gid: number },
  files: string[],
): Promise<{ status: number | null; output: string; tests: AssertionResult[] }> {
  const stage = mkdtempSync(join(tmpdir(), 'warren-unprivileged-repo-'));
  const results = mkdtempSync(join(tmpdir(), 'warren-unprivileged-out-'));
  scratch.push(results);
  chmodSync(stage, 0o755);
  chownSync(results, user.uid, user.gid);
  const report = join(results, 'report.json');
  const script = [
    'mount --bind "$1" "$2" || exit 1',
    'cd "$2" || exit 1',
    // The child runs as the user from here on; --configLoader runner: the user cannot write node_modules/.vite-temp.
    `exec runuser -u ${TEST_USER} -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=${results} XDG_RUNTIME_DIR=${results} ` +
      `npx vitest run --configLoader runner --reporter=json --outputFile=${report} ${files.join(' ')}`,
  ].join('\n');
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', REPOSITORY, stage],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((done) => child.on('close', done));
  rmSync(stage, { recursive: true, force: true });
  let tests: AssertionResult[] = [];
  try {
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: { assertionResults: AssertionResult[] }[];
    };
    tests = parsed.testResults.flatMap((file) => file.assertionResults);
  } catch {
    // No report: the run failed before vitest wrote it; `output` says why.
  }
  return { status, output, tests };
}

function requireTestUser(context: TestContext): { uid: number; gid: number } {
  const user = userIds(TEST_USER);
  if (user && user.uid !== 0) return user;
  if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
  throw new Error(
    `No unprivileged user "${TEST_USER}" to run the sandbox escape tests as: create one (useradd --create-home ${TEST_USER}; .ci/run does) or name another in WARREN_TEST_USER`,
  );
}

/** A limit the driver refused to start without (fail closed), because the host cannot enforce it for this user. */
const REFUSED_LIMIT = /cannot be enforced by podman here: rootless podman cannot set cgroup limits/;

describe.runIf(asRoot)('sandbox escape tests as an unprivileged user (Warren not run by root)', () => {
  it('bwrap: the whole driver contract passes, escapes and host privileges included', async (context) => {
    const user = requireTestUser(context);
    const run = await runAsTestUser(user, ['test/sandbox/bwrap.test.ts']);
    const failed = run.tests.filter((test) => test.status !== 'passed');
    expect(failed.map((test) => `${test.fullName}: ${test.failureMessages.join(' ')}`)).toEqual([]);
    expect(run.tests.filter((test) => test.fullName.includes('escape:')).length).toBeGreaterThanOrEqual(19);
    expect(run.tests.map((test) => test.fullName)).toContain(
      'sandbox driver contract: bwrap escape: cannot write a global sysctl (core_pattern), /proc/sys is read-only',
    );
    expect(run.status, run.output.slice(-2000)).toBe(0);
  }, 180_000);

  it('podman (rootless): every escape test passes; a limit the host cannot enforce is refused, never ignored', async (context) => {
    const user = requireTestUser(context);
    const run = await runAsTestUser(user, ['test/oci-podman.test.ts']);
    expect(run.tests.length, run.output.slice(-2000)).toBeGreaterThanOrEqual(30);
    const escapes = run.tests.filter((test) => test.fullName.includes('escape:'));
    expect(escapes.length).toBeGreaterThanOrEqual(19);
    expect(escapes.filter((test) => test.status !== 'passed').map((test) => test.fullName)).toEqual([]);
    const unexpected = run.tests.filter(
      (test) =>
        test.status !== 'passed' && !test.failureMessages.some((message) => REFUSED_LIMIT.test(message)),
    );
    expect(unexpected.map((test) => `${test.fullName}: ${test.failureMessages.join(' ')}`)).toEqual([]);
  }, 300_000);
});
