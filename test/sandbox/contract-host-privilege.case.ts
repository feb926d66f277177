import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { LaunchPlan } from '../../src/sandbox/index.js';
import { runScript, sh, waitFor, type ContractKit } from './contract-kit.js';
import { uniqueMarker } from './fixtures.js';

const SETUID = 0o4000;

/** Spawns a plan from a bash that first opens `path` on descriptor 200, as `(exec 200<path; warren run …)` does. */
async function runWithInheritedDescriptor(
  plan: LaunchPlan,
  path: string,
): Promise<{ status: number | null; stdout: string }> {
  const child = spawn(
    '/bin/bash',
    ['-c', 'exec 200<"$1"; shift; exec "$@"', 'bash', path, plan.file, ...plan.args],
    {
      env: plan.env,
      cwd: plan.cwd ?? '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await plan.cleanup();
  return { status, stdout };
}

/**
 * What the kernel grants by host uid, beyond namespaces: whoever runs Warren (root or not), the agent must hold
 * none of root's host powers. Each attempt is harmless if it succeeds (it writes back a value that is already
 * there), so a failing test never leaves the host changed.
 */
export function registerHostPrivilegeTests(kit: ContractKit): void {
  const { contractTest } = kit;

  contractTest('escape: cannot write a global sysctl (core_pattern), /proc/sys is read-only', async () => {
    const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const result = await runScript(
      kit,
      'v=$(cat /proc/sys/kernel/core_pattern) && printf "%s\\n" "$v" > /proc/sys/kernel/core_pattern && echo WROTE-CORE; ' +
        'cat /proc/sys/kernel/hostname; printf warren > /proc/sys/kernel/hostname && echo WROTE-HOSTNAME; ' +
        'grep -E " /proc/sys " /proc/self/mountinfo',
    );
    expect(result.stdout).not.toContain('WROTE-CORE');
    expect(result.stdout).not.toContain('WROTE-HOSTNAME');
    expect(result.stdout).toMatch(/ \/proc\/sys .*\bro\b/);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(before);
  });

  contractTest('escape: cannot chmod or chown a host device node', async () => {
    const before = statSync('/dev/null');
    const result = await runScript(
      kit,
      'chmod 0666 /dev/null && echo CHMOD; chown 1000 /dev/null && echo CHOWN; echo data > /dev/null && echo USABLE',
    );
    expect(result.stdout).toBe('USABLE\n');
    const after = statSync('/dev/null');
    expect([after.mode, after.uid, after.gid]).toEqual([before.mode, before.uid, before.gid]);
  });

  contractTest('escape: RLIMIT_NPROC binds the agent (root would be exempt)', async () => {
    const result = await runScript(kit, 'ulimit -u 1 && (echo FORKED) ; ulimit -u');
    expect(result.stdout).not.toContain('FORKED');
  });

  contractTest(
    'escape: a setuid file left in the workspace is never setuid root on the host, during or after the session',
    async () => {
      const workspace = kit.fixture().workspace;
      const plan = await kit
        .driver()
        .plan(
          kit
            .fixture()
            .spec(
              sh('cp /bin/sh /workspace/suid && chmod 4755 /workspace/suid; touch /workspace/ready; sleep 3'),
            ),
        );
      const child = spawn(plan.file, plan.args, { env: plan.env, cwd: plan.cwd ?? '/', stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('close', resolve));
      try {
        await waitFor(() => existsSync(join(workspace, 'ready')), 'the agent to write its file', 15_000);
        const during = lstatSync(join(workspace, 'suid'));
        expect(during.uid).not.toBe(0);
        expect(lstatSync(join(workspace, 'ready')).uid).not.toBe(0);
      } finally {
        await exited;
        await plan.cleanup();
      }
      const after = lstatSync(join(workspace, 'suid'));
      expect(after.uid === 0 && (after.mode & SETUID) !== 0).toBe(false);
    },
  );

  contractTest('escape: cannot create a user namespace (unshare -U, unshare -r)', async () => {
    const result = await runScript(
      kit,
      'unshare -U sh -c "echo IN-NEW-USERNS"; unshare -r sh -c "echo MAPPED-ROOT"; unshare --user --map-root-user id',
    );
    expect(result.stdout).not.toContain('IN-NEW-USERNS');
    expect(result.stdout).not.toContain('MAPPED-ROOT');
    expect(result.stdout).not.toContain('uid=0');
    expect(result.stderr).toMatch(/unshare failed/);
  });

  contractTest('escape: kernel keyrings are refused (keyctl, add_key)', async () => {
    const result = await runScript(
      kit,
      'keyctl show @s && echo SHOWN; keyctl add user warren-probe secret @s && echo ADDED; keyctl new_session && echo NEW',
    );
    expect(result.stdout).not.toMatch(/SHOWN|ADDED|NEW/);
    expect(result.stderr).toMatch(/Function not implemented/);
  });

  contractTest('escape: descriptors inherited from the caller do not reach the sandbox', async () => {
    const secretPath = kit.fixture().secretPath;
    const plan = await kit
      .driver()
      .plan(kit.fixture().spec(sh('ls /proc/self/fd; cat /proc/self/fd/200 /proc/1/fd/200 2>&1; true')));
    const result = await runWithInheritedDescriptor(plan, secretPath);
    expect(result.stdout).not.toContain(kit.fixture().secret);
    expect(result.stdout.split('\n')).not.toContain('200');
  });

  contractTest(
    "the workspace stays the host owner's: files the agent made belong to them afterwards",
    async () => {
      const workspace = kit.fixture().workspace;
      const owner = statSync(workspace);
      writeFileSync(join(workspace, 'existing'), 'host file');
      const marker = uniqueMarker('made-inside');
      const result = await runScript(
        kit,
        `mkdir -p /workspace/dir && echo ${marker} > /workspace/dir/new && echo more >> /workspace/existing && ls -ln /workspace`,
      );
      expect(result.status).toBe(0);
      for (const path of [
        workspace,
        join(workspace, 'existing'),
        join(workspace, 'dir'),
        join(workspace, 'dir', 'new'),
      ]) {
        const stats = lstatSync(path);
        expect([path, stats.uid, stats.gid]).toEqual([path, owner.uid, owner.gid]);
      }
      expect(readFileSync(join(workspace, 'existing'), 'utf8')).toBe('host filemore\n');
    },
  );
}
