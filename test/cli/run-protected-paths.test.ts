import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProtectedPathsReport } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/index.js';
import { freshDirectories, warren } from './warren-cli.js';

function hostGit(workspace: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], {
    cwd: workspace,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

function repository(): { home: string; workspace: string; marker: string } {
  const { home, workspace } = freshDirectories();
  hostGit(workspace, 'init', '-q', '-b', 'main');
  writeFileSync(join(workspace, 'README.md'), 'hello\n');
  hostGit(workspace, 'add', 'README.md');
  hostGit(workspace, 'commit', '-q', '-m', 'first');
  return { home, workspace, marker: join(mkdtempSync(join(tmpdir(), 'warren-marker-')), 'pwned') };
}

/** `warren run` and protected paths (docs/sandbox.md): the stderr block, the session record, the opt-out. */
describe('warren run: protected paths', () => {
  const attack = (marker: string) =>
    `git config core.fsmonitor 'touch ${marker}; false' && echo 'touch ${marker}' > .envrc && echo done`;

  it('reports on stderr and in the session record what the session changed, and the host runs none of it', async () => {
    const { home, workspace, marker } = repository();
    const result = await warren(['run', '--dir', workspace, '--', 'sh', '-c', attack(marker)], {
      env: { WARREN_HOME: home },
      timeoutMs: 60_000,
    });
    expect(result.stdout).toBe('done\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      'warren: protected paths: the session changed 2 file(s) the host runs; none of it will run there:',
    );
    expect(result.stderr).toContain(
      '  .git/config: changed, kept in the session only; the host file is unchanged',
    );
    expect(result.stderr).toContain(`      + \tfsmonitor = "touch ${marker}; false"`);
    expect(result.stderr).toMatch(
      / {2}\.envrc: created, moved aside to \.envrc\.warren-quarantine-s-[0-9a-f]+\n/,
    );

    hostGit(workspace, 'status');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(workspace, '.envrc'))).toBe(false);

    const store = openStore(join(home, 'warren.db'));
    try {
      const [row] = store.sessions.list();
      const report = row?.details.protectedPaths;
      expect(isProtectedPathsReport(report)).toBe(true);
      expect(isProtectedPathsReport(report) && report.changes.map((change) => change.path)).toEqual([
        '.git/config',
        '.envrc',
      ]);
    } finally {
      store.close();
    }
  }, 90_000);

  it('--no-protect leaves the workspace as the session left it and reports nothing', async () => {
    const { home, workspace, marker } = repository();
    const result = await warren(
      ['run', '--no-protect', '--dir', workspace, '--', 'sh', '-c', attack(marker)],
      {
        env: { WARREN_HOME: home },
        timeoutMs: 60_000,
      },
    );
    expect(result.stdout).toBe('done\n');
    expect(result.stderr).not.toContain('protected paths');
    expect(readFileSync(join(workspace, '.git/config'), 'utf8')).toContain('fsmonitor');
    expect(readFileSync(join(workspace, '.envrc'), 'utf8')).toContain(marker);
  }, 90_000);
});
