import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testImageForSuite } from '../helpers/rootfs.js';
import { freshDirectories, warren } from './warren-cli.js';

const bin = fileURLToPath(new URL('../../bin/warren.js', import.meta.url));

/**
 * Runs `sh -c SCRIPT` on the host with $WARREN set to the CLI, so that the test controls what Warren's own stdin,
 * stdout and stderr are (a file, a pipe to head, …), as a user's shell would.
 */
function hostShell(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WARREN: `${process.execPath} ${bin}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${script}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The attack of issue 10: reopen (and truncate) whatever descriptor 1 of the sandbox's first process is. */
const REOPEN_STDOUT = [
  'echo before',
  'echo x > /proc/1/fd/1',
  'echo after',
  'echo to-stderr > /dev/stderr',
  'for fd in 0 1 2; do echo "fd$fd $(stat -L -c %F /proc/1/fd/$fd) $(stat -L -c %F /proc/self/fd/$fd)"; done',
].join('; ');

const image = await testImageForSuite();

describe('warren run: the sandbox gets pipes, never the caller’s descriptors', () => {
  for (const driver of ['bwrap', 'podman'] as const) {
    it(`${driver}: reopening /proc/1/fd/1 cannot truncate the file warren run > writes to`, async () => {
      const { home, workspace } = freshDirectories();
      const output = join(workspace, '..', `${driver}-output-${randomBytes(4).toString('hex')}.txt`);
      // World-writable, so that the sandbox user could open it by path: only the descriptor stands between them.
      writeFileSync(output, 'host content that must not be truncated\n', { mode: 0o666 });
      chmodSync(output, 0o666);
      const extra = driver === 'podman' ? `--driver podman --image ${image}` : '';
      const result = await hostShell(
        `$WARREN run --dir "$1" ${extra} -- sh -c "$3" >> "$2" 2>"$2.err" </dev/null; echo "status=$?"`,
        [workspace, output, REOPEN_STDOUT],
        { WARREN_HOME: home },
      );
      expect(result.stdout).toBe('status=0\n');
      const written = readFileSync(output, 'utf8');
      // Appended in order after what was there: nothing was truncated or rewound.
      expect(written.startsWith('host content that must not be truncated\nbefore\n')).toBe(true);
      expect(written).toContain('\nafter\n');
      // bwrap's reopened pipe carries "x" along; podman's (conmon's pipe, owned by the engine) refuses the open.
      if (driver === 'bwrap') expect(written).toContain('before\nx\nafter\n');
      for (const fd of [0, 1, 2]) expect(written).toContain(`fd${fd} fifo fifo`);
      expect(written).not.toMatch(/regular/);
    });
  }

  it('passes stdin to EOF and output back byte for byte, quickly', async () => {
    const { home, workspace } = freshDirectories();
    const input = join(workspace, 'input.bin');
    writeFileSync(input, randomBytes(64 * 1024 * 1024));
    const started = Date.now();
    const result = await hostShell(
      `$WARREN run --dir "$1" -- sh -c 'cat; echo "eof reached" >&2' < "$2" > "$2.out"; echo "status=$?"; cmp "$2" "$2.out" && echo same`,
      [workspace, input],
      { WARREN_HOME: home },
    );
    const seconds = (Date.now() - started) / 1000;
    expect(result.stderr).toContain('eof reached');
    expect(result.stdout).toBe('status=0\nsame\n');
    // 64 MiB in and out through Warren; about 1 s here (start included). A generous bound against a stall.
    expect(seconds).toBeLessThan(20);
  });

  it('a reader that goes away ends the command with SIGPIPE, and input that never ends does not hold Warren', async () => {
    const { home, workspace } = freshDirectories();
    const piped = await hostShell(
      `{ $WARREN run --dir "$1" -- yes; echo "status=$?" >&2; } | head -c 4`,
      [workspace],
      { WARREN_HOME: home },
    );
    expect(piped.stdout).toBe('y\ny\n');
    expect(piped.stderr).toContain('status=141');
    // stdin stays open (a sleeping writer) after the command exits: Warren must not wait for it.
    const started = Date.now();
    const endless = await hostShell(
      [
        'mkfifo "$1/input"',
        'sleep 30 > "$1/input" & writer=$!',
        `$WARREN run --dir "$1" -- sh -c 'exit 3' < "$1/input"; echo "status=$?"`,
        'kill $writer',
      ].join('\n'),
      [workspace],
      { WARREN_HOME: home },
    );
    expect(endless.stdout).toContain('status=3');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('--help shows the default limits and where they come from', async () => {
    const { home } = freshDirectories();
    const help = await warren(['run', '--help'], { env: { WARREN_HOME: home } });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--memory SIZE .*\(default: [\d.]+ [GM]iB\)/);
    expect(help.stdout).toContain('(default: 4096)');
    for (const flag of ['--tmp-size', '--home-size', '--shm-size'])
      expect(help.stdout).toMatch(new RegExp(`${flag} SIZE .*\\(default: [\\d.]+ [GM]iB\\)`));
    expect(help.stdout).toContain('bounded only by the filesystem');
  });
});
