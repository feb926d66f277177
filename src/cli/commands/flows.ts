import { statfsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { openHome } from '../../config/index.js';
import { WarrenError } from '../../errors/index.js';
import { flowsToHar } from '../../proxy/index.js';
import {
  DEFAULT_MAX_PENDING_BYTES,
  openStore,
  type RecordingTotals,
  type SessionRow,
  type StoredFlow,
} from '../../store/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs, parsePositiveInteger } from '../parse.js';

const usage = 'warren flows [--session ID] [--host H] [--limit N] [--json | --har]';

const help = `Usage: ${usage}

Prints the recorded requests and responses of the egress proxy, oldest first.

Options:
  --session ID   only this session's flows (session ids are printed by \`warren flows\` and the web UI)
  --host H       only flows to this host
  --limit N      at most N flows (default 1000); a line on stderr says when more matched
  --json         one JSON object per line, with body sizes but no bodies
  --har          a HAR 1.2 document, bodies included (up to the recording cap)

A flow marked "[… B not recorded]" lost headers or texts to the recording limits (proxy.headerCapBytes);
"metadata only" means its session had spent its recording budget (proxy.recordingBudgetBytes), so only
its method, URL, host, status, decision, sizes and timings were kept. Each such session gets a line of
totals after the table, and so does a session that ended because Warren itself stopped (killed or
crashed) rather than because its command exited.

Each flow is written to the store before the agent has its whole response. When the disk holding
WARREN_HOME is full, a running Warren keeps the flows it cannot write in memory (up to
${DEFAULT_MAX_PENDING_BYTES / 1024 / 1024} MiB) and writes them once space returns; this command then
says so, since the newest flows are not here yet.
`;

function line(flow: StoredFlow): string {
  const time = new Date(flow.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const status = flow.response ? String(flow.response.status) : flow.error ? 'ERR' : '-';
  const size = flow.response ? flow.response.body.size : 0;
  const verdict = flow.policy.decision === 'deny' ? `  DENIED: ${flow.policy.reason}` : '';
  const recording = flow.recording
    ? `  [${flow.recording.metadataOnly ? 'metadata only, ' : ''}${flow.recording.droppedBytes} B not recorded]`
    : '';
  return `${time}  ${flow.sessionId}  ${flow.method.padEnd(7)} ${status.padEnd(3)} ${String(size).padStart(8)}B  ${flow.url}${verdict}${recording}`;
}

/** One line per session whose recording limits left something out, after the table. */
function totalsLine(sessionId: string, totals: RecordingTotals): string | undefined {
  if (totals.droppedBytes === 0 && totals.metadataOnly === 0) return undefined;
  const budget =
    totals.metadataOnly > 0
      ? `, ${totals.metadataOnly} kept as metadata only (the session's recording budget was spent)`
      : '';
  return (
    `session ${sessionId}: ${totals.flows} flows, ${totals.storedBytes} B stored${budget}, ` +
    `${totals.droppedBytes} B of headers, bodies and long texts not recorded`
  );
}

/** A line for a session that ended because Warren stopped, not because its command exited. */
function crashLine(row: SessionRow | undefined): string | undefined {
  if (row?.details.endReason !== 'crashed') return undefined;
  return `session ${row.id}: ended by a crash (${String(row.details.error)}); its flows up to then are recorded`;
}

/** Below this, SQLite cannot grow its log: a running Warren then holds new flows in memory. */
const LOW_SPACE_BYTES = 1024 * 1024;

function lowSpaceNotice(root: string): string | undefined {
  let free: number;
  try {
    const stats = statfsSync(root);
    free = stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
  if (free >= LOW_SPACE_BYTES) return undefined;
  return (
    `warren flows: the filesystem holding ${root} has ${Math.floor(free / 1024)} KiB free: a running Warren ` +
    `keeps the flows it cannot write in memory (up to ${DEFAULT_MAX_PENDING_BYTES / 1024 / 1024} MiB) until ` +
    'space returns, so the newest flows may be missing here'
  );
}

/**
 * Writes to stdout until its reader goes away (`warren flows | head`), then stops without a word: a
 * closed pipe is the reader saying it has seen enough, not an error.
 */
function stdoutWriter(stdout: Writable): { write(text: string): void; failure(): Error | undefined } {
  let failure: Error | undefined;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') failure ??= error;
  });
  return {
    write(text) {
      if (!stdout.destroyed && !stdout.writableEnded) stdout.write(text);
    },
    failure: () => failure,
  };
}

export const flowsCommand: CliCommand = {
  name: 'flows',
  summary: 'print recorded traffic (table, JSON lines or HAR)',
  help,
  async run(args, context) {
    const { values } = parseCommandArgs(
      args,
      {
        session: { type: 'string' },
        host: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        har: { type: 'boolean' },
      },
      usage,
    );
    if (values.json && values.har) {
      throw new WarrenError('invalid-argument', '--json and --har cannot be used together');
    }
    const home = openHome(context.env);
    // This process only reads: a full disk is told about here, not as the store's own log line.
    const store = openStore(home.databasePath, { onWriteStatus: () => undefined });
    const out = stdoutWriter(context.stdout);
    try {
      const limit = parsePositiveInteger(values.limit, '--limit') ?? 1000;
      // One more than asked for says whether the limit cut the list short.
      const flows = store.flows.query({
        ...(values.session ? { sessionId: values.session } : {}),
        ...(values.host ? { host: values.host } : {}),
        limit: limit + 1,
        withBodies: Boolean(values.har),
      });
      const cut = flows.length > limit;
      if (cut) flows.length = limit;
      if (values.session && flows.length === 0 && !store.sessions.get(values.session)) {
        throw new WarrenError('not-found', `no session ${values.session}`, {
          hint: 'run `warren flows` without --session to see every session id',
        });
      }
      if (values.har) {
        out.write(`${JSON.stringify(flowsToHar(flows), null, 2)}\n`);
      } else if (values.json) {
        for (const flow of flows) {
          out.write(
            `${JSON.stringify(flow, (key, value: unknown) => (key === 'data' ? undefined : value))}\n`,
          );
        }
      } else {
        for (const flow of flows) out.write(`${line(flow)}\n`);
        if (flows.length === 0) context.stderr.write('no flows recorded yet\n');
        for (const sessionId of new Set(flows.map((flow) => flow.sessionId))) {
          const totals = totalsLine(sessionId, store.flows.recordingTotals(sessionId));
          if (totals) out.write(`${totals}\n`);
          const crash = crashLine(store.sessions.get(sessionId));
          if (crash) out.write(`${crash}\n`);
        }
      }
      if (cut) {
        context.stderr.write(
          `warren flows: stopped at --limit ${limit}; more flows match (raise --limit, or narrow with --session or --host)\n`,
        );
      }
      const space = lowSpaceNotice(home.root);
      if (space) context.stderr.write(`${space}\n`);
      const failure = out.failure();
      if (failure) throw failure;
      return 0;
    } finally {
      store.close();
    }
  },
};
