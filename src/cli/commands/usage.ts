import { WarrenError } from '../../errors/index.js';
import type { IdentityWarning, UsageGroup } from '../../store/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs } from '../parse.js';
import { openGatewayStore } from './gateway.js';
import { parseDuration } from './token.js';

const usage =
  'warren usage [--by model|upstream|token|session|day] [--since 7d|2026-01-31] [--session ID] [--recent N] [--json]';

const help = `${usage}

Summarises the model calls recorded by the gateway: requests, errors, tokens in and out, average
latency and time to first token, grouped by model (default) or another column. Below the table, a
warning lists any identity claim of another vendor that reached a model ("You are Codex, …" sent to
grok-4): a prompt wording the gateway does not rewrite yet.

  --by G        model, upstream (provider/model that answered), token, session or day.
  --since S     Only calls since a duration ago (7d, 12h) or a date (2026-01-31).
  --session ID  Only the calls of one sandbox session.
  --recent N    List the N most recent calls instead of a summary.
  --json        Machine-readable output.
`;

const groups: UsageGroup[] = ['model', 'upstream', 'token', 'session', 'day'];

function sinceOf(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw new WarrenError('invalid-argument', `--since: "${text}" is not a date`);
    return time;
  }
  const duration = parseDuration(text, '--since');
  if (duration === null) throw new WarrenError('invalid-argument', '--since needs a duration or a date');
  return now - duration;
}

function printTable(rows: string[][], write: (text: string) => void): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((line) => line[column]!.length)));
  for (const line of rows) {
    write(
      `${line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}\n`,
    );
  }
}

function ms(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(value < 10 ? 1 : 0)}ms`;
}

/** Shown at most, most recent first; `--json` has them all. */
const shownWarnings = 10;

/**
 * Calls whose model was told another vendor's identity: a prompt wording the gateway's rules do not
 * rewrite. Said after the table, so that a new CLI wording is seen the first time it is used.
 */
function printIdentityWarnings(warnings: IdentityWarning[], write: (text: string) => void): void {
  if (warnings.length === 0) return;
  write(
    `\nwarning: ${warnings.length === 1 ? 'a model was' : 'models were'} told another vendor's identity ` +
      '(a prompt wording the gateway does not rewrite; see docs/gateway.md, "Model identity"):\n',
  );
  for (const warning of warnings.slice(0, shownWarnings)) {
    write(`  ${warning.upstream}  ${warning.calls}×  "${warning.claim}"\n`);
  }
  if (warnings.length > shownWarnings) write(`  … ${warnings.length - shownWarnings} more (--json)\n`);
}

export const usageCommand: CliCommand = {
  name: 'usage',
  summary: 'Summarise model gateway usage (tokens, latency, errors)',
  help,
  async run(args, context) {
    const { values } = parseCommandArgs(
      args,
      {
        by: { type: 'string' },
        since: { type: 'string' },
        session: { type: 'string' },
        recent: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    const by = (values.by ?? 'model') as UsageGroup;
    if (!groups.includes(by))
      throw new WarrenError(
        'invalid-argument',
        `--by must be one of ${groups.join(', ')}; got "${values.by}"`,
      );
    const since = sinceOf(values.since, Date.now());
    const query = {
      ...(since !== undefined ? { since } : {}),
      ...(values.session ? { sessionId: values.session } : {}),
    };
    const store = openGatewayStore(context.env);
    try {
      if (values.recent !== undefined) {
        const limit = Number(values.recent);
        if (!Number.isInteger(limit) || limit <= 0)
          throw new WarrenError('invalid-argument', '--recent must be a positive whole number');
        const calls = store.usage.list({ ...query, limit });
        if (values.json) {
          context.stdout.write(`${JSON.stringify(calls, null, 2)}\n`);
          return 0;
        }
        printTable(
          [
            ['TIME', 'MODEL', 'UPSTREAM', 'STATUS', 'IN', 'OUT', 'LATENCY', 'TTFT', 'SESSION'],
            ...calls.map((call) => [
              new Date(call.startedAt).toISOString().slice(0, 19).replace('T', ' '),
              call.model,
              call.upstream ?? '-',
              String(call.status),
              String(call.inputTokens),
              String(call.outputTokens),
              ms(call.latencyMs),
              ms(call.timeToFirstTokenMs),
              call.sessionId ?? '-',
            ]),
          ],
          (text) => context.stdout.write(text),
        );
        printIdentityWarnings(store.usage.identityWarnings({ ...query, limit }), (text) =>
          context.stdout.write(text),
        );
        return 0;
      }
      const names = new Map(store.tokens.list().map((token) => [token.id, token.name]));
      // Tokens are shown by name as well as id: ids alone mean nothing to a reader.
      const rows = store.usage
        .summarize(by, query)
        .map((row) =>
          by === 'token' && names.has(row.key) ? { ...row, key: `${names.get(row.key)} (${row.key})` } : row,
        );
      if (values.json) {
        context.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return 0;
      }
      if (rows.length === 0) {
        context.stdout.write('no model calls recorded yet\n');
        return 0;
      }
      const total = rows.reduce(
        (sum, row) => ({
          requests: sum.requests + row.requests,
          errors: sum.errors + row.errors,
          inputTokens: sum.inputTokens + row.inputTokens,
          outputTokens: sum.outputTokens + row.outputTokens,
        }),
        { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0 },
      );
      printTable(
        [
          [by.toUpperCase(), 'REQUESTS', 'ERRORS', 'TOKENS IN', 'TOKENS OUT', 'AVG LATENCY', 'AVG TTFT'],
          ...rows.map((row) => [
            row.key,
            String(row.requests),
            String(row.errors),
            String(row.inputTokens),
            String(row.outputTokens),
            ms(row.averageLatencyMs),
            ms(row.averageTimeToFirstTokenMs),
          ]),
          [
            'total',
            String(total.requests),
            String(total.errors),
            String(total.inputTokens),
            String(total.outputTokens),
            '',
            '',
          ],
        ],
        (text) => context.stdout.write(text),
      );
      printIdentityWarnings(store.usage.identityWarnings(query), (text) => context.stdout.write(text));
    } finally {
      store.close();
    }
    return 0;
  },
};
