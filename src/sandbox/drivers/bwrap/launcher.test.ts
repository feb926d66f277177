import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildLauncherScript, LAUNCHER_FAILURE_STATUS, listeningLinePattern } from './launcher.js';

describe('launcher script', () => {
  it('matches the /proc/net/tcp line of a loopback listener', () => {
    expect(listeningLinePattern(3128)).toBe(' 0100007F:0C38 00000000:0000 0A ');
    expect(listeningLinePattern(80)).toBe(' 0100007F:0050 00000000:0000 0A ');
  });

  it('execs the command with its arguments untouched by the shell', () => {
    const script = buildLauncherScript({});
    const result = spawnSync('/bin/sh', [
      '-c',
      script,
      'warren-launcher',
      'printf',
      '%s|',
      'a b',
      '$HOME',
      '`id`',
    ]);
    expect(result.stdout.toString()).toBe('a b|$HOME|`id`|');
  });

  it('fails with a clear message and status 125 when the bridge cannot start', () => {
    const script = buildLauncherScript({
      proxy: { port: 3128, socatPath: '/nonexistent/socat' },
      bridgeWaitTries: 3,
    });
    const result = spawnSync('/bin/sh', ['-c', script, 'warren-launcher', 'echo', 'should-not-run']);
    expect(result.status).toBe(LAUNCHER_FAILURE_STATUS);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toMatch(/warren: the proxy bridge/);
  });

  it('sets hard rlimits the command cannot raise', () => {
    const script = buildLauncherScript({ cpuSeconds: 7 });
    const result = spawnSync('/bin/sh', [
      '-c',
      script,
      'warren-launcher',
      '/bin/sh',
      '-c',
      'ulimit -H -t; ulimit -t 8',
    ]);
    expect(result.stdout.toString().trim()).toBe('7');
    expect(result.stderr.toString()).not.toBe('');
  });
});
