import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { selectProtectedEntries } from './catalog.js';
import { configReferencedPaths } from './config-references.js';
import { readConfigEntries, sanitizedConfigText } from './git-config.js';
import { prepareGitView } from './git-view.js';
import { prepareWorkspaceProtection } from './protect.js';
import { diffLines } from './line-diff.js';
import { HIDDEN_GIT_DIR } from './mounts.js';
import { emptyReport, formatProtectedPathsReport } from './report.js';
import { neutraliseGitDirs } from './scan.js';

let root: string;
let workspace: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'warren-protected-'));
  workspace = join(root, 'workspace');
  mkdirSync(workspace);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

/** The ctime a change made now gets: what a session start records. */
function clockNow(): bigint {
  const marker = join(root, `clock-${Math.random()}`);
  writeFileSync(marker, '');
  return lstatSync(marker, { bigint: true }).ctimeNs;
}

/** Waits until the filesystem clock has moved past `since`, so that what follows is strictly later. */
function tickAfter(since: bigint): void {
  while (clockNow() <= since) {
    /* a few milliseconds at most */
  }
}

describe('selectProtectedEntries', () => {
  it('protects .git and the default list unless told otherwise, and false protects nothing', () => {
    const defaults = selectProtectedEntries(undefined);
    expect(defaults.git).toBe(true);
    expect(defaults.entries.map((entry) => entry.path)).toEqual(
      expect.arrayContaining(['.bashrc', '.envrc', '.mcp.json', '.vscode', '.idea', '.claude', '.husky']),
    );
    expect(selectProtectedEntries(false)).toEqual({ git: false, entries: [] });
    const changed = selectProtectedEntries({ add: ['tools/hooks/'], remove: ['.vscode', '.git'] });
    expect(changed.git).toBe(false);
    expect(changed.entries.map((entry) => entry.path)).not.toContain('.vscode');
    expect(changed.entries.find((entry) => entry.path === 'tools/hooks')?.why).toContain('add');
  });
});

describe('git config sanitizing', () => {
  it('keeps remotes, branches and the format, and drops everything that runs a program', async () => {
    const path = join(root, 'config');
    writeFileSync(
      path,
      [
        '[core]',
        '\trepositoryformatversion = 0',
        '\tfsmonitor = touch /tmp/pwned',
        '\thooksPath = .evil',
        '\tpager = evil',
        '\tsshCommand = evil',
        '[extensions]',
        '\tobjectFormat = sha256',
        '[remote "origin"]',
        '\turl = https://example.com/a\\"b.git',
        '\tfetch = +refs/heads/*:refs/remotes/origin/*',
        '\tuploadpack = touch /tmp/pwned',
        '[branch "main"]',
        '\tremote = origin',
        '\tmerge = refs/heads/main',
        '[submodule "lib"]',
        '\turl = https://example.com/lib.git',
        '\tupdate = !touch /tmp/pwned',
        '[filter "x"]',
        '\tclean = evil',
        '[alias]',
        '\tst = !evil',
        '[include]',
        '\tpath = evil.cfg',
        // A subsection name that tries to close its header and open [core] when written back.
        '[remote "x\\"] [core] fsmonitor = evil"]',
        '\turl = https://example.com/x.git',
      ].join('\n'),
    );
    const entries = await readConfigEntries(path);
    expect(entries).toBeDefined();
    const sanitized = join(root, 'sanitized');
    writeFileSync(sanitized, sanitizedConfigText(entries ?? []));
    const kept = (await readConfigEntries(sanitized))?.map((entry) => `${entry.key}=${entry.value}`);
    expect(kept).toEqual([
      'core.repositoryformatversion=0',
      'extensions.objectformat=sha256',
      'remote.origin.url=https://example.com/a"b.git',
      'remote.origin.fetch=+refs/heads/*:refs/remotes/origin/*',
      'branch.main.remote=origin',
      'branch.main.merge=refs/heads/main',
      'submodule.lib.url=https://example.com/lib.git',
      'remote.x"] [core] fsmonitor = evil.url=https://example.com/x.git',
    ]);
  });

  it('finds the hooks folder and included files inside the workspace, through includes', async () => {
    mkdirSync(join(workspace, '.git'));
    const config = join(workspace, '.git', 'config');
    writeFileSync(
      config,
      [
        '[core]',
        '\thooksPath = .githooks',
        '[include]',
        '\tpath = ../shared.gitconfig',
        '\tpath = ~/.gitconfig-extra',
        `\tpath = ${join(root, 'outside.cfg')}`,
        '[includeIf "onbranch:main"]',
        '\tpath = local.cfg',
      ].join('\n'),
    );
    writeFileSync(join(workspace, 'shared.gitconfig'), '[include]\n\tpath = tools/more.cfg\n');
    expect((await configReferencedPaths(workspace, config)).sort()).toEqual([
      '.git/local.cfg',
      '.githooks',
      'shared.gitconfig',
      'tools/more.cfg',
    ]);
  });
});

describe('formatProtectedPathsReport', () => {
  it('shows control characters from file names and contents as \\xNN, never raw', () => {
    const report = emptyReport();
    report.changes.push({
      path: '.envrc\u001b]0;owned\u0007',
      change: 'created',
      outcome: 'quarantined',
      movedTo: '.envrc.warren-quarantine-s-1',
      why: 'direnv',
      diff: 'echo \u001b[2J\r\ttab',
    });
    const text = formatProtectedPathsReport(report);
    expect(text).not.toMatch(/[\u001b\u0007\r]/);
    expect(text).toContain('.envrc\\x1b]0;owned\\x07: created');
    expect(text).toContain('echo \\x1b[2J\\x0d\ttab');
  });
});

describe('diffLines', () => {
  it('lists removed and added lines in order', () => {
    expect(diffLines(Buffer.from('a\nb\nc\n'), Buffer.from('a\nc\nd\n'))).toBe('- b\n+ d');
    expect(diffLines(Buffer.from('a\0'), Buffer.from('b'))).toContain('binary');
  });
});

describe('neutraliseGitDirs', () => {
  it('sanitizes configs and moves aside hooks the session wrote, in every repository, and nothing older', async () => {
    git(workspace, 'init', '-q', 'old');
    writeFileSync(join(workspace, 'old/.git/hooks/pre-commit'), '#!/bin/sh\n', { mode: 0o755 });
    const outside = join(root, 'outside');
    git(root, 'init', '-q', 'outside');
    const baselineNs = clockNow();
    tickAfter(baselineNs);
    git(workspace, 'init', '-q', 'nested/new');
    git(join(workspace, 'nested/new'), 'config', 'core.fsmonitor', 'touch /tmp/pwned');
    git(join(workspace, 'nested/new'), 'remote', 'add', 'origin', 'https://example.com/new.git');
    writeFileSync(join(workspace, 'nested/new/.git/hooks/post-checkout'), '#!/bin/sh\nevil\n', {
      mode: 0o755,
    });
    git(workspace, 'init', '-q', '--bare', 'bare.git');
    writeFileSync(join(workspace, 'bare.git/commondir'), '../elsewhere\n');
    // A link to a repository outside is not followed: that one is not the session's to change.
    symlinkSync(outside, join(workspace, 'link'));
    writeFileSync(join(outside, '.git/config'), '[core]\n\tfsmonitor = host-owned\n');

    const report = emptyReport();
    await neutraliseGitDirs({ workspace, sessionId: 's-1', baselineNs, report });

    const byPath = new Map(report.changes.map((change) => [change.path, change]));
    expect([...byPath.keys()].sort()).toEqual([
      'bare.git/commondir',
      'bare.git/config',
      'nested/new/.git/config',
      'nested/new/.git/hooks/post-checkout',
    ]);
    expect(byPath.get('nested/new/.git/config')).toMatchObject({
      change: 'created',
      outcome: 'sanitized',
      movedTo: 'nested/new/.git/config.warren-quarantine-s-1',
    });
    expect(byPath.get('nested/new/.git/config')?.diff).toBe('- core.fsmonitor = touch /tmp/pwned');
    expect(git(join(workspace, 'nested/new'), 'config', '--list')).not.toContain('fsmonitor');
    expect(git(join(workspace, 'nested/new'), 'remote', 'get-url', 'origin').trim()).toBe(
      'https://example.com/new.git',
    );
    expect(existsSync(join(workspace, 'nested/new/.git/hooks/post-checkout'))).toBe(false);
    expect(byPath.get('bare.git/commondir')?.outcome).toBe('quarantined');
    expect(existsSync(join(workspace, 'old/.git/hooks/pre-commit'))).toBe(true);
    expect(readFileSync(join(outside, '.git/config'), 'utf8')).toContain('host-owned');
  });
});

describe('prepareWorkspaceProtection', () => {
  it('binds existing protected paths read-only in place, and what a protected link names in the workspace', async () => {
    mkdirSync(join(workspace, 'shared/editor'), { recursive: true });
    symlinkSync('shared/editor', join(workspace, '.vscode'));
    writeFileSync(join(workspace, '.mcp.json'), '{}');
    const stateFolder = join(root, 'state');
    mkdirSync(stateFolder);
    const protection = await prepareWorkspaceProtection({
      workspace,
      stateFolder,
      sessionId: 's-3',
      setting: true,
    });
    expect(protection?.mounts).toEqual([
      { source: '.mcp.json', inWorkspace: true, target: '/workspace/.mcp.json', readonly: true },
      { source: 'shared/editor', inWorkspace: true, target: '/workspace/shared/editor', readonly: true },
    ]);
  });

  it('never renames or reads through a link the session put on the way, and moves the link aside', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'profile'), 'host file\n');
    writeFileSync(join(outside, 'secret'), 'host secret\n');
    mkdirSync(join(workspace, 'tools'));
    const stateFolder = join(root, 'state');
    mkdirSync(stateFolder);
    const protection = await prepareWorkspaceProtection({
      workspace,
      stateFolder,
      sessionId: 's-2',
      setting: { add: ['tools/profile'] },
    });
    expect(protection?.mounts).toEqual([]);
    await protection?.markStarted();
    // The session: tools becomes a link out of the workspace, .envrc a link to a host file.
    rmSync(join(workspace, 'tools'), { recursive: true });
    symlinkSync(outside, join(workspace, 'tools'));
    symlinkSync(join(outside, 'secret'), join(workspace, '.envrc'));
    const report = await protection?.settle();

    expect(readFileSync(join(outside, 'profile'), 'utf8')).toBe('host file\n');
    expect(existsSync(join(workspace, 'tools'))).toBe(false);
    expect(report?.changes.map((change) => [change.path, change.outcome, change.movedTo])).toEqual([
      ['.envrc', 'quarantined', '.envrc.warren-quarantine-s-2'],
      ['tools', 'quarantined', 'tools.warren-quarantine-s-2'],
    ]);
    expect(JSON.stringify(report)).not.toContain('host secret');
  });
});

describe('neutraliseGitDirs: what is not git', () => {
  it('keeps a worktree commondir naming the protected git directory, and never moves project folders', async () => {
    git(workspace, 'init', '-q');
    mkdirSync(join(workspace, 'deploy/config'), { recursive: true });
    mkdirSync(join(workspace, 'deploy/objects'));
    mkdirSync(join(workspace, 'deploy/refs'));
    const baselineNs = clockNow();
    tickAfter(baselineNs);
    mkdirSync(join(workspace, '.git/worktrees/wt'), { recursive: true });
    writeFileSync(join(workspace, '.git/worktrees/wt/HEAD'), 'ref: refs/heads/wt\n');
    writeFileSync(join(workspace, '.git/worktrees/wt/commondir'), '../..\n');
    mkdirSync(join(workspace, '.git/worktrees/other'), { recursive: true });
    writeFileSync(join(workspace, '.git/worktrees/other/HEAD'), 'ref: refs/heads/x\n');
    writeFileSync(join(workspace, '.git/worktrees/other/commondir'), '../../../evil\n');
    writeFileSync(join(workspace, 'deploy/config/app.yaml'), 'changed in the session\n');
    writeFileSync(join(workspace, 'deploy/HEAD'), 'not git\n');

    const report = emptyReport();
    await neutraliseGitDirs({ workspace, sessionId: 's-4', baselineNs, report, ownGitDirProtected: true });
    expect(report.changes.map((change) => change.path)).toEqual(['.git/worktrees/other/commondir']);
    expect(existsSync(join(workspace, '.git/worktrees/wt/commondir'))).toBe(true);
    expect(existsSync(join(workspace, 'deploy/config/app.yaml'))).toBe(true);

    const unprotected = emptyReport();
    await neutraliseGitDirs({ workspace, sessionId: 's-5', baselineNs, report: unprotected });
    expect(unprotected.changes.map((change) => change.path)).toEqual(['.git/worktrees/wt/commondir']);
  });
});

describe('git view', () => {
  it('keeps config and hooks private, carries HEAD back, and reports what changed', async () => {
    git(workspace, 'init', '-q', '-b', 'main');
    git(workspace, 'commit', '-q', '--allow-empty', '-m', 'first');
    const folder = join(root, 'state');
    mkdirSync(folder);
    const view = await prepareGitView({ workspace, folder, owner: undefined, included: [] });
    const viewDir = join(folder, 'git-view');
    expect(view.mounts.slice(0, 2)).toEqual([
      { source: viewDir, inWorkspace: false, target: '/workspace/.git', readonly: false },
      { source: '.git', inWorkspace: true, target: HIDDEN_GIT_DIR, readonly: false },
    ]);
    expect(view.mounts).toContainEqual({
      source: '.git/config',
      inWorkspace: true,
      target: `${HIDDEN_GIT_DIR}/config`,
      readonly: true,
    });
    expect(lstatSync(join(viewDir, 'objects')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(viewDir, 'packed-refs')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(viewDir, 'HEAD')).isFile()).toBe(true);

    // What git inside would do: write the private config and hooks, switch branch.
    writeFileSync(
      join(viewDir, 'config'),
      `${readFileSync(join(viewDir, 'config'), 'utf8')}[core]\n\tfsmonitor = x\n`,
    );
    writeFileSync(join(viewDir, 'hooks/pre-commit'), '#!/bin/sh\nevil\n', { mode: 0o755 });
    writeFileSync(join(viewDir, 'HEAD'), 'ref: refs/heads/feature\n');
    writeFileSync(join(viewDir, 'ORIG_HEAD'), '0123\n');

    const report = emptyReport();
    await view.settle(report);
    expect(report.changes).toEqual([
      expect.objectContaining({
        path: '.git/config',
        change: 'changed',
        outcome: 'kept-private',
        diff: '+ [core]\n+ \tfsmonitor = x',
      }),
      expect.objectContaining({ path: '.git/hooks/pre-commit', change: 'created', outcome: 'kept-private' }),
    ]);
    expect(report.carried).toEqual(['.git/HEAD', '.git/ORIG_HEAD']);
    expect(readFileSync(join(workspace, '.git/HEAD'), 'utf8')).toBe('ref: refs/heads/feature\n');
    expect(readFileSync(join(workspace, '.git/config'), 'utf8')).not.toContain('fsmonitor');
    expect(existsSync(join(workspace, '.git/hooks/pre-commit'))).toBe(false);
    expect(formatProtectedPathsReport(report)).toContain('.git/config: changed, kept in the session only');
  });

  it('protects what .git/hooks links to in the workspace', async () => {
    git(workspace, 'init', '-q');
    rmSync(join(workspace, '.git/hooks'), { recursive: true });
    mkdirSync(join(workspace, '.githooks'));
    symlinkSync('../.githooks', join(workspace, '.git/hooks'));
    const folder = join(root, 'state');
    mkdirSync(folder);
    const view = await prepareGitView({ workspace, folder, owner: undefined, included: [] });
    expect(view.linkedTargets).toEqual(['.githooks']);
  });

  it('keeps the host HEAD when the host changed it too, and never deletes it', async () => {
    git(workspace, 'init', '-q', '-b', 'main');
    const folder = join(root, 'state');
    mkdirSync(folder);
    const view = await prepareGitView({ workspace, folder, owner: undefined, included: [] });
    writeFileSync(join(folder, 'git-view/HEAD'), 'ref: refs/heads/session\n');
    writeFileSync(join(workspace, '.git/HEAD'), 'ref: refs/heads/host\n');
    const report = emptyReport();
    await view.settle(report);
    expect(readFileSync(join(workspace, '.git/HEAD'), 'utf8')).toBe('ref: refs/heads/host\n');
    expect(report.notes).toEqual([expect.stringContaining('.git/HEAD changed on the host')]);

    // rm -rf .git inside empties the view (the view itself is a mount point and stays).
    const second = mkdtempSync(join(root, 'state-'));
    const again = await prepareGitView({ workspace, folder: second, owner: undefined, included: [] });
    for (const name of readdirSync(join(second, 'git-view')))
      rmSync(join(second, 'git-view', name), { recursive: true, force: true });
    const removed = emptyReport();
    await again.settle(removed);
    expect(readFileSync(join(workspace, '.git/HEAD'), 'utf8')).toBe('ref: refs/heads/host\n');
    expect(removed.notes).toContain('.git/HEAD was deleted in the session; the host keeps its own');
  });
});
