import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildLauncherScript, LAUNCHER_FAILURE_STATUS, loopbackAddressHex } from './launcher.js';

describe('launcher script', () => {
  it('spells loopback addresses as /proc/net/tcp does', () => {
    expect(loopbackAddressHex(3128)).toBe('0100007F:0C38');
    expect(loopbackAddressHex(80)).toBe('0100007F:0050');
  });

  it('waits until the bridge listens before running the command', () => {
    // A stand-in for socat that listens after a delay, on a port no one else uses in this test.
    const port = 20000 + Math.floor(Math.random() * 20000);
    // It lets go of the output pipe and gives up after 3 s, so nothing can hold the test open.
    const listen = `timeout 3 socat -u TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr OPEN:/dev/null >/dev/null`;
    const fakeSocat = `/bin/sh -c 'sleep 0.2; exec ${listen}'`;
    const script = buildLauncherScript({ proxy: { port, socatPath: '/bin/sh' } }).replace(
      `/bin/sh TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/run/warren/proxy.sock`,
      fakeSocat,
    );
    expect(script).toContain(fakeSocat);
    const check = [
      `grep -q ' ${loopbackAddressHex(port)} 00000000:0000 0A ' /proc/net/tcp && echo listening`,
      `socat -u OPEN:/dev/null TCP:127.0.0.1:${port}`,
    ].join('; ');
    const result = spawnSync('/bin/sh', ['-c', script, 'warren-launcher', '/bin/sh', '-c', check], {
      timeout: 10_000,
    });
    expect(result.stdout.toString()).toBe('listening\n');
    expect(result.status).toBe(0);
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

  it('holds the terminal briefly after the command when asked, keeping its exit status', () => {
    const script = buildLauncherScript({ holdTerminalMs: 50 });
    expect(script).toContain('sleep 0.050');
    const result = spawnSync('/bin/sh', ['-c', script, 'warren-launcher', 'sh', '-c', 'echo out; exit 9']);
    expect(result.stdout.toString()).toBe('out\n');
    expect(result.status).toBe(9);
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
