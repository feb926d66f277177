import { readFile } from 'node:fs/promises';
import { WarrenError } from '../errors/index.js';

/**
 * Secrets the agent uses but cannot read. Inside the sandbox a variable holds a placeholder; the egress proxy
 * swaps it for the real value only on requests to the secret's hosts (secrets.ts). This file turns the
 * `secrets:` entries of warren.yaml into checked definitions and loads their values on the host.
 */
export type SecretHow = 'header' | 'basic';

export interface SecretDefinition {
  /** Variable inside the sandbox that holds the placeholder. */
  name: string;
  /** Hosts the real value may be sent to: `host`, `*.domain`, either with an optional `:port`. */
  hosts: string[];
  /** header: replaced wherever the placeholder appears in a request header; basic: also inside Basic credentials. */
  how: SecretHow;
  /** For basic: the user name git sends with the token. */
  username: string;
}

/** A secret entry as written in warren.yaml (`secrets:` in src/config/schema.ts). */
export interface SecretEntry {
  name: string;
  env?: string;
  file?: string;
  hosts?: string[];
  how?: SecretHow;
  username?: string;
}

export interface LoadedSecret extends SecretDefinition {
  value: string;
}

/** Presets by variable name: where each well-known token may go, and how tools send it. */
export const SECRET_PRESETS: Readonly<Record<string, Omit<SecretDefinition, 'name'> & { explain: string }>> =
  {
    GITHUB_TOKEN: {
      hosts: ['github.com', 'api.github.com', 'uploads.github.com', 'codeload.github.com'],
      how: 'basic',
      username: 'x-access-token',
      explain: 'GitHub API (Authorization header) and git over HTTPS (Basic, user x-access-token)',
    },
    GH_TOKEN: {
      hosts: ['github.com', 'api.github.com', 'uploads.github.com', 'codeload.github.com'],
      how: 'basic',
      username: 'x-access-token',
      explain: 'the gh CLI, same hosts as GITHUB_TOKEN',
    },
    CLAUDE_CODE_OAUTH_TOKEN: {
      hosts: ['api.anthropic.com'],
      how: 'header',
      username: '',
      explain: 'Claude Code subscription login (Authorization: Bearer) to api.anthropic.com only',
    },
    NPM_TOKEN: {
      hosts: ['registry.npmjs.org'],
      how: 'header',
      username: '',
      explain:
        'npm publish/install of private packages; reference it in .npmrc as //registry.npmjs.org/:_authToken=${NPM_TOKEN}',
    },
    TWINE_PASSWORD: {
      hosts: ['upload.pypi.org', 'test.pypi.org'],
      how: 'basic',
      username: '__token__',
      explain: 'PyPI upload token for twine (Basic, user __token__)',
    },
    UV_PUBLISH_TOKEN: {
      hosts: ['upload.pypi.org', 'test.pypi.org'],
      how: 'basic',
      username: '__token__',
      explain: 'PyPI upload token for uv publish (Basic, user __token__)',
    },
  };

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

function invalid(message: string, hint: string): WarrenError {
  return new WarrenError('invalid-config', message, { hint });
}

/** A host pattern must name something: no bare `*`, and a wildcard needs at least two labels (`*.github.com`). */
function checkHostPattern(secret: string, pattern: string): string {
  const lower = pattern.toLowerCase();
  if (!HOST_PATTERN.test(lower))
    throw invalid(
      `secrets.${secret}.hosts: "${pattern}" is not a host, *.domain, or either with :port`,
      'Write hosts like github.com or *.github.com.',
    );
  if (lower.startsWith('*.') && lower.replace(/:\d+$/, '').split('.').length < 3)
    throw invalid(
      `secrets.${secret}.hosts: "${pattern}" is too broad`,
      'Name the domain, e.g. *.github.com rather than *.com.',
    );
  return lower;
}

/** Entries with their presets applied and checked; refuses anything that would send a value nowhere or anywhere. */
export function resolveSecretDefinitions(entries: readonly SecretEntry[]): SecretDefinition[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    if (seen.has(entry.name))
      throw invalid(`secrets: ${entry.name} is defined twice`, 'Keep one entry per variable name.');
    seen.add(entry.name);
    const preset = Object.hasOwn(SECRET_PRESETS, entry.name) ? SECRET_PRESETS[entry.name] : undefined;
    const hosts = entry.hosts ?? preset?.hosts;
    if (!hosts || hosts.length === 0)
      throw invalid(
        `secrets.${entry.name}: no hosts`,
        `Name the hosts it may be sent to (hosts: [api.example.com]); presets exist for ${Object.keys(SECRET_PRESETS).join(', ')}.`,
      );
    const how = entry.how ?? preset?.how ?? 'header';
    return {
      name: entry.name,
      hosts: hosts.map((host) => checkHostPattern(entry.name, host)),
      how,
      username: entry.username ?? preset?.username ?? (how === 'basic' ? 'x-access-token' : ''),
    };
  });
}

/** Reads each value from Warren's own environment or a host file; a missing value fails the start (fail closed). */
export async function loadSecretValues(
  entries: readonly SecretEntry[],
  env: NodeJS.ProcessEnv,
): Promise<LoadedSecret[]> {
  const definitions = resolveSecretDefinitions(entries);
  const loaded: LoadedSecret[] = [];
  for (const [index, definition] of definitions.entries()) {
    const entry = entries[index] as SecretEntry;
    let value: string | undefined;
    if (entry.file !== undefined) {
      value = await readFile(entry.file, 'utf8').then(
        (text) => text.replace(/\r?\n$/, ''),
        (error: NodeJS.ErrnoException) => {
          throw invalid(
            `secrets.${entry.name}: cannot read ${entry.file} (${error.code ?? error.message})`,
            'Point file: at a readable file holding only the value.',
          );
        },
      );
    } else {
      const variable = entry.env ?? entry.name;
      value = env[variable];
      if (value === undefined || value === '')
        throw invalid(
          `secrets.${entry.name}: the variable ${variable} is not set in Warren's environment`,
          `Export ${variable} before starting Warren, or use file: PATH.`,
        );
    }
    if (value.length === 0 || /[\r\n\0]/.test(value))
      throw invalid(
        `secrets.${entry.name}: the value is empty or spans lines`,
        'A secret value is one line of text.',
      );
    loaded.push({ ...definition, value });
  }
  return loaded;
}
