import { posix } from 'node:path';

/**
 * A path, relative to the workspace root, that a program on the host runs or reads as code during an ordinary
 * action (opening a shell, an editor or an agent there, cd-ing into it with direnv). Each entry says why, so that
 * a report line, the docs and a refusal read the same.
 */
export interface ProtectedEntry {
  path: string;
  why: string;
}

/**
 * The workspace's own repository metadata. Not in ROOT_ENTRIES: git needs to write it, so it gets a private view
 * (git-view.ts) rather than a read-only mount, and every repository below the workspace is checked at the end.
 */
export const GIT_ENTRY: ProtectedEntry = {
  path: '.git',
  why: 'git runs core.fsmonitor, core.pager, hooks and filters from here on `git status`, `git commit`, …',
};

/**
 * Paths at the workspace root, read-only inside when they exist, and caught at the end when the session created
 * them. The list follows sandbox-runtime's always-denied files and folders, with what it leaves out added (shell
 * start-up files beyond bash/zsh's main ones, direnv, other editors and agents). Project files that only run when
 * the user runs the project (package.json scripts, Makefile, .npmrc, CI workflows) are not here: docs/sandbox.md.
 */
export const ROOT_ENTRIES: readonly ProtectedEntry[] = [
  ...[
    '.bashrc',
    '.bash_profile',
    '.bash_login',
    '.bash_logout',
    '.profile',
    '.zshrc',
    '.zshenv',
    '.zprofile',
    '.zlogin',
    '.zlogout',
  ].map((path) => ({ path, why: 'a shell runs it at start when the workspace is a home folder' })),
  { path: '.gitconfig', why: 'git reads it as the global config when the workspace is a home folder' },
  { path: '.ripgreprc', why: 'ripgrep reads it (RIPGREP_CONFIG_PATH); --pre runs a program on every file' },
  { path: '.envrc', why: 'direnv runs it on cd into the workspace once allowed' },
  { path: '.mcp.json', why: 'Claude Code starts the MCP servers it names' },
  {
    path: '.vscode',
    why: 'VS Code applies its settings and tasks (interpreters, tool paths, folderOpen tasks)',
  },
  { path: '.idea', why: 'JetBrains IDEs apply its run configurations and tool paths' },
  { path: '.zed', why: 'Zed applies its settings and tasks (language server binaries)' },
  { path: '.devcontainer', why: 'devcontainer.json initializeCommand runs on the host' },
  { path: '.claude', why: 'Claude Code runs its hooks and settings' },
  { path: '.cursor', why: 'Cursor starts its MCP servers and applies its rules' },
  { path: '.gemini', why: 'Gemini CLI starts the MCP servers its settings name' },
  { path: '.husky', why: 'husky keeps the hook scripts `git commit` runs through core.hooksPath' },
];

/** Entries of a git directory that make git run a program or read config from elsewhere. */
export const GIT_DIR_PROTECTED_NAMES = ['config', 'config.worktree', 'commondir', 'hooks'] as const;

/** What sessions ask for: absent means the default list. */
export type ProtectedPathsSetting = boolean | { add?: string[]; remove?: string[] };

/** The entries one session protects, `.git` among them unless removed. */
export interface ProtectedSelection {
  git: boolean;
  entries: ProtectedEntry[];
}

/** A workspace-relative path as the settings accept it: no leading "/", no "..", no ".", no repeated "/". */
export function isWorkspaceRelative(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\0')) return false;
  const clean = posix.normalize(path).replace(/\/$/, '');
  return clean === path.replace(/\/$/, '') && !clean.split('/').some((part) => part === '..' || part === '.');
}

/** The selection a setting describes; `false` protects nothing (the documented opt-out). */
export function selectProtectedEntries(setting: ProtectedPathsSetting | undefined): ProtectedSelection {
  if (setting === false) return { git: false, entries: [] };
  const add = setting === true || setting === undefined ? [] : (setting.add ?? []);
  const remove = new Set(
    (setting === true || setting === undefined ? [] : (setting.remove ?? [])).map((path) =>
      path.replace(/\/$/, ''),
    ),
  );
  const entries = ROOT_ENTRIES.filter((entry) => !remove.has(entry.path));
  for (const raw of add) {
    const path = raw.replace(/\/$/, '');
    if (path === GIT_ENTRY.path || entries.some((entry) => entry.path === path)) continue;
    entries.push({ path, why: 'listed in sandbox.protectedPaths.add' });
  }
  return { git: !remove.has(GIT_ENTRY.path), entries };
}
