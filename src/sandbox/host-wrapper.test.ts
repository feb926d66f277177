import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST_WRAPPER_FAILURE_STATUS, wrapForHost } from './host-wrapper.js';

const BASH = '/bin/bash';
const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'warren-wrapper-'));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** Runs `command` through the wrapper from a bash that holds `inherited` open on descriptor 200. */
function runWithInherited(wrapped: { file: string; args: string[] }, inherited: string) {
  const quoted = [wrapped.file, ...wrapped.args]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(' ');
  return spawnSync(BASH, ['-c', `exec 200<'${inherited}' 17<'${inherited}'; exec ${quoted}`]);
}

describe('wrapForHost', () => {
  it('closes every descriptor above 2 that it inherited before the command starts', () => {
    const secret = join(folder(), 'host-secret');
    writeFileSync(secret, 'host secret');
    const wrapped = wrapForHost(
      { file: '/bin/sh', args: ['-c', 'ls /proc/self/fd; cat /proc/self/fd/200 /proc/self/fd/17'] },
      { bashPath: BASH },
    );
    const result = runWithInherited(wrapped, secret);
    // 0-2 and the descriptor ls itself opens on /proc/self/fd (3); neither 17 nor 200.
    expect(result.stdout.toString().split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);
    expect(result.stdout.toString()).not.toContain('host secret');
    expect(result.stderr.toString()).toContain('No such file or directory');
  });

  it('control: without the wrapper the same descriptor reaches the command', () => {
    const secret = join(folder(), 'host-secret');
    writeFileSync(secret, 'host secret');
    const result = runWithInherited({ file: '/bin/cat', args: ['/proc/self/fd/200'] }, secret);
    expect(result.stdout.toString()).toBe('host secret');
  });

  it('writes its own pid to every procs file, then execs the command in the same process', () => {
    const base = folder();
    const files = [join(base, 'a procs'), join(base, "b'procs")];
    const wrapped = wrapForHost(
      { file: '/bin/sh', args: ['-c', 'echo $$'] },
      { bashPath: BASH, procsFiles: files },
    );
    const result = spawnSync(wrapped.file, wrapped.args);
    const pid = result.stdout.toString().trim();
    expect(pid).toMatch(/^\d+$/);
    for (const file of files) expect(readFileSync(file, 'utf8').trim()).toBe(pid);
  });

  it('opens input files on their descriptors for the command, and only 3 to 9', () => {
    const filter = join(folder(), "filter's.bpf");
    writeFileSync(filter, 'filter-bytes');
    const wrapped = wrapForHost(
      { file: '/bin/sh', args: ['-c', 'cat <&3'] },
      { bashPath: BASH, inputFiles: [{ fd: 3, path: filter }] },
    );
    expect(spawnSync(wrapped.file, wrapped.args).stdout.toString()).toBe('filter-bytes');
    expect(() => wrapForHost(wrapped, { bashPath: BASH, inputFiles: [{ fd: 1, path: filter }] })).toThrow(
      RangeError,
    );
  });

  it('refuses to start the command when a cgroup cannot be joined', () => {
    const wrapped = wrapForHost(
      { file: '/bin/echo', args: ['started'] },
      { bashPath: BASH, procsFiles: ['/nonexistent/cgroup.procs'] },
    );
    const result = spawnSync(wrapped.file, wrapped.args);
    expect(result.status).toBe(HOST_WRAPPER_FAILURE_STATUS);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toContain('could not move the sandbox into /nonexistent/cgroup.procs');
  });
});

const asRoot = process.getuid?.() === 0;

describe.runIf(asRoot)('wrapForHost dropping to an unprivileged identity (as root)', () => {
  const identity = { uid: 2000001000, gid: 2000001000 };
  const tools = {
    unsharePath: '/usr/bin/unshare',
    setprivPath: '/usr/bin/setpriv',
    mountPath: '/usr/bin/mount',
  };

  it('runs the command as the identity, with no capabilities and no supplementary groups', () => {
    const wrapped = wrapForHost(
      { file: '/bin/sh', args: ['-c', 'id -u; id -g; id -G; grep -E "^Cap(Prm|Eff|Amb)" /proc/self/status'] },
      { bashPath: BASH, drop: { identity, mounts: [], ...tools } },
    );
    const lines = spawnSync(wrapped.file, wrapped.args).stdout.toString().trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['2000001000', '2000001000', '2000001000']);
    for (const line of lines.slice(3)) expect(line).toMatch(/:\s+0000000000000000$/);
  });

  it('stages a root-only folder where the identity can reach it, in a mount namespace of its own', () => {
    const base = folder();
    chmodSync(base, 0o711);
    // A readable folder inside one only root may search: /root/project, WARREN_HOME/ca.
    const privateFolder = join(base, 'private', 'project');
    mkdirSync(privateFolder, { recursive: true, mode: 0o755 });
    chmodSync(join(base, 'private'), 0o700);
    writeFileSync(join(privateFolder, 'file'), 'staged');
    const stage = join(base, 'stage');
    mkdirSync(stage);
    const wrapped = wrapForHost(
      { file: '/bin/sh', args: ['-c', `cat ${stage}/file; cat ${privateFolder}/file`] },
      { bashPath: BASH, drop: { identity, mounts: [{ source: privateFolder, target: stage }], ...tools } },
    );
    const result = spawnSync(wrapped.file, wrapped.args);
    // Through the stage; not by its own path.
    expect(result.stdout.toString()).toBe('staged');
    expect(result.stderr.toString()).toMatch(/project\/file: Permission denied/);
    // The host's mount table never saw the staging mount.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(stage);
    expect(statSync(stage).isDirectory()).toBe(true);
  });

  it('binds device nodes read-only: usable, but their host inode cannot be changed, even by root', () => {
    const base = folder();
    const stage = join(base, 'null');
    writeFileSync(stage, '');
    const wrapped = wrapForHost(
      {
        file: '/bin/sh',
        args: ['-c', `echo data > ${stage} && echo wrote; chmod 0600 ${stage} || echo refused`],
      },
      {
        bashPath: BASH,
        drop: {
          identity: { uid: 0, gid: 0 },
          mounts: [{ source: '/dev/null', target: stage, readOnlyDevice: true }],
          ...tools,
        },
      },
    );
    const result = spawnSync(wrapped.file, wrapped.args);
    expect(result.stdout.toString()).toBe('wrote\nrefused\n');
    expect(result.stderr.toString()).toMatch(/Read-only file system/);
    expect(statSync('/dev/null').mode & 0o777).toBe(0o666);
  });
});
