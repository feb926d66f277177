import { WarrenError } from '../../errors/index.js';
import { issueStoredToken } from '../../gateway/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { parseCommandArgs } from '../parse.js';
import { openGatewayStore } from './gateway.js';

const usage = 'warren token create --name N [--models a,b] [--expires 30d] | list [--json] | revoke ID|NAME';

const help = `${usage}

Tokens let callers use the model gateway without the master key.

  create --name N      Issue a token and print it once (only its sha256 is stored).
         --models a,b  Limit it to these model names (default: every model).
         --expires D   Let it expire after D: 90m, 12h, 30d, 8w, 1y, or "never" (default).
  list [--json]        Show every token: id, name, models, created, expires, last used, state.
  revoke ID|NAME       Revoke a token at once (by id, or every live token with that name).
`;

const units: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** `30d` → milliseconds; `never` → null. */
export function parseDuration(text: string, flag: string): number | null {
  if (text === 'never') return null;
  const match = /^(\d+)\s*([smhdwy])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) {
    throw new WarrenError(
      'invalid-argument',
      `${flag} must be a duration like 90m, 12h, 30d, 8w or 1y, or "never"; got "${text}"`,
    );
  }
  return Number(match[1]) * units[match[2]!]!;
}

function day(epoch: number | null): string {
  return epoch === null ? '-' : new Date(epoch).toISOString().slice(0, 16).replace('T', ' ');
}

function create(args: string[], context: CliContext): number {
  const { values } = parseCommandArgs(
    args,
    { name: { type: 'string' }, models: { type: 'string' }, expires: { type: 'string' } },
    usage,
  );
  if (!values.name?.trim())
    throw new WarrenError('invalid-argument', 'token create needs --name', { hint: `usage: ${usage}` });
  const models = values.models
    ? values.models
        .split(',')
        .map((model) => model.trim())
        .filter(Boolean)
    : null;
  if (models && models.length === 0)
    throw new WarrenError('invalid-argument', '--models lists no model name');
  const now = Date.now();
  const lifetime = values.expires ? parseDuration(values.expires, '--expires') : null;
  const store = openGatewayStore(context.env);
  try {
    const issued = issueStoredToken(store.tokens, {
      name: values.name.trim(),
      models,
      expiresAt: lifetime === null ? null : now + lifetime,
      now,
    });
    context.stdout.write(`${issued.secret}\n`);
    context.stderr.write(
      `token ${issued.id} "${values.name.trim()}" created${lifetime === null ? '' : `, expires ${day(now + lifetime)} UTC`}` +
        `${models ? `, models: ${models.join(', ')}` : ''}.\nCopy it now: it is not stored and cannot be shown again.\n`,
    );
  } finally {
    store.close();
  }
  return 0;
}

function list(args: string[], context: CliContext): number {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' } }, usage);
  const store = openGatewayStore(context.env);
  try {
    const now = Date.now();
    const rows = store.tokens.list().map((token) => ({
      id: token.id,
      name: token.name,
      prefix: token.prefix,
      models: token.models,
      createdAt: token.createdAt,
      expiresAt: token.expiresAt,
      lastUsedAt: token.lastUsedAt,
      state:
        token.revokedAt !== null
          ? 'revoked'
          : token.expiresAt !== null && token.expiresAt <= now
            ? 'expired'
            : 'live',
    }));
    if (values.json) {
      context.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      context.stdout.write('no tokens; create one with: warren token create --name NAME\n');
      return 0;
    }
    const table = [
      ['ID', 'NAME', 'PREFIX', 'MODELS', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
      ...rows.map((row) => [
        row.id,
        row.name,
        `${row.prefix}…`,
        row.models?.join(',') ?? '*',
        day(row.createdAt),
        day(row.expiresAt),
        day(row.lastUsedAt),
        row.state,
      ]),
    ];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
    for (const line of table)
      context.stdout.write(
        `${line
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
      );
  } finally {
    store.close();
  }
  return 0;
}

function revoke(args: string[], context: CliContext): number {
  const { positionals } = parseCommandArgs(args, {}, usage);
  if (positionals.length !== 1)
    throw new WarrenError('invalid-argument', 'token revoke needs one token id or name', {
      hint: `usage: ${usage}`,
    });
  const store = openGatewayStore(context.env);
  try {
    const count = store.tokens.revoke(positionals[0]!, Date.now());
    if (count === 0) {
      throw new WarrenError('not-found', `no live token with id or name "${positionals[0]}"`, {
        hint: 'see `warren token list`',
      });
    }
    context.stdout.write(`revoked ${count} token${count === 1 ? '' : 's'}\n`);
  } finally {
    store.close();
  }
  return 0;
}

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'Create, list and revoke model gateway tokens',
  help,
  async run(args, context) {
    const [action, ...rest] = args;
    switch (action) {
      case 'create':
        return create(rest, context);
      case 'list':
        return list(rest, context);
      case 'revoke':
        return revoke(rest, context);
      default:
        throw new WarrenError(
          'invalid-argument',
          action ? `unknown token action "${action}"` : 'token needs an action',
          {
            hint: `usage: ${usage}`,
          },
        );
    }
  },
};
