import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One `key=value` of a git config file; the key as git prints it (section and name lower-cased). */
export interface ConfigEntry {
  key: string;
  value: string;
}

/**
 * The host's git reads only the one file: no system or global config, no includes, no repository discovered from
 * the working directory (GIT_DIR names none), so nothing in the file (or around it) can make it run anything.
 */
const ISOLATED_GIT_ENVIRONMENT = {
  PATH: '/usr/bin:/bin:/usr/local/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_DIR: '/nonexistent',
  LANG: 'C',
};

/**
 * Reads a git config file with the host's git (its own parser, so Warren reads what git would), never following
 * includes. Undefined when git is not installed or cannot parse the file.
 */
export async function readConfigEntries(path: string): Promise<ConfigEntry[] | undefined> {
  try {
    const { stdout } = await run('git', ['config', '--file', path, '--no-includes', '--null', '--list'], {
      cwd: '/',
      env: ISOLATED_GIT_ENVIRONMENT,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10_000,
    });
    return stdout
      .split('\0')
      .filter((record) => record.length > 0)
      .map((record) => {
        const newline = record.indexOf('\n');
        return newline < 0
          ? { key: record, value: 'true' }
          : { key: record.slice(0, newline), value: record.slice(newline + 1) };
      });
  } catch {
    return undefined;
  }
}

/**
 * Keys that only describe a repository and its remotes: git runs nothing because of them. Everything else (core.*
 * programs, hooksPath, fsmonitor, filters, diff drivers, aliases, includes, credential helpers, remote
 * uploadpack/receivepack, submodule update commands, …) is dropped from a config the session wrote.
 */
const SAFE_KEYS: readonly RegExp[] = [
  /^core\.(repositoryformatversion|filemode|bare|worktree|logallrefupdates|ignorecase|precomposeunicode|symlinks|autocrlf|eol)$/,
  /^extensions\.(objectformat|refstorage)$/,
  /^remote\.[^\n]+\.(url|pushurl|fetch|push|tagopt|mirror|prune)$/,
  /^branch\.[^\n]+\.(remote|pushremote|merge|rebase)$/,
  /^user\.(name|email)$/,
  /^init\.defaultbranch$/,
  /^submodule\.[^\n]+\.(url|active|branch)$/,
];

export function isSafeConfigKey(key: string): boolean {
  return SAFE_KEYS.some((pattern) => pattern.test(key));
}

function quoted(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** The section header and variable name of a key as `git config --list` prints it ("remote.origin.url"). */
function splitKey(
  key: string,
): { section: string; subsection: string | undefined; name: string } | undefined {
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first <= 0 || last === key.length - 1) return undefined;
  const section = key.slice(0, first);
  const name = key.slice(last + 1);
  if (!/^[a-z0-9-]+$/i.test(section) || !/^[a-z][a-z0-9-]*$/i.test(name)) return undefined;
  return { section, subsection: first === last ? undefined : key.slice(first + 1, last), name };
}

/** A config file holding only the safe entries, in their order, grouped by section as git writes them. */
export function sanitizedConfigText(entries: readonly ConfigEntry[]): string {
  const lines: string[] = [];
  let header: string | undefined;
  for (const entry of entries) {
    if (!isSafeConfigKey(entry.key)) continue;
    const parts = splitKey(entry.key);
    // git cannot write a subsection name with a line break; such a key did not come from git.
    if (!parts || /[\n\r\0]/.test(parts.subsection ?? '')) continue;
    const next =
      parts.subsection === undefined
        ? `[${parts.section}]`
        : `[${parts.section} "${parts.subsection.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"]`;
    if (next !== header) {
      lines.push(next);
      header = next;
    }
    lines.push(`\t${parts.name} = ${quoted(entry.value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Where a config points git at other files that then count as protected: hooks folder and included files. */
export interface ConfigReferences {
  hooksPath: string | undefined;
  includes: string[];
}

export function configReferences(entries: readonly ConfigEntry[]): ConfigReferences {
  let hooksPath: string | undefined;
  const includes: string[] = [];
  for (const { key, value } of entries) {
    if (key === 'core.hookspath') hooksPath = value;
    else if (key === 'include.path' || (key.startsWith('includeif.') && key.endsWith('.path')))
      includes.push(value);
  }
  return { hooksPath, includes };
}
