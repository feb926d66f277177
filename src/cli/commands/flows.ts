import { openHome } from '../../config/index.js';
import { WarrenError } from '../../errors/index.js';
import { flowsToHar } from '../../proxy/index.js';
import { openStore, type RecordingTotals, type StoredFlow } from '../../store/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs, parsePositiveInteger } from '../parse.js';

const usage = 'warren flows [--session ID] [--host H] [--limit N] [--json | --har]';

const help = `Usage: ${usage}

Prints the recorded requests and responses of the egress proxy, oldest first.

Options:
  --session ID   only this session's flows (session ids are printed by \`warren flows\` and the web UI)
  --host H       only flows to this host
  --limit N      at most N flows (default 1000)
  --json         one JSON object per line, with body sizes but no bodies
  --har          a HAR 1.2 document, bodies included (up to the recording cap)

A flow marked "[… B not recorded]" lost headers or texts to the recording limits (proxy.headerCapBytes);
"metadata only" means its session had spent its recording budget (proxy.recordingBudgetBytes), so only
its method, URL, host, status, decision, sizes and timings were kept. Each such session gets a line of
totals after the table.
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
    const store = openStore(openHome(context.env).databasePath);
    try {
      const flows = store.flows.query({
        ...(values.session ? { sessionId: values.session } : {}),
        ...(values.host ? { host: values.host } : {}),
        limit: parsePositiveInteger(values.limit, '--limit') ?? 1000,
        withBodies: Boolean(values.har),
      });
      if (values.session && flows.length === 0 && !store.sessions.get(values.session)) {
        throw new WarrenError('not-found', `no session ${values.session}`, {
          hint: 'run `warren flows` without --session to see every session id',
        });
      }
      if (values.har) {
        context.stdout.write(`${JSON.stringify(flowsToHar(flows), null, 2)}\n`);
      } else if (values.json) {
        for (const flow of flows) {
          context.stdout.write(
            `${JSON.stringify(flow, (key, value: unknown) => (key === 'data' ? undefined : value))}\n`,
          );
        }
      } else {
        for (const flow of flows) context.stdout.write(`${line(flow)}\n`);
        if (flows.length === 0) context.stderr.write('no flows recorded yet\n');
        for (const sessionId of new Set(flows.map((flow) => flow.sessionId))) {
          const totals = totalsLine(sessionId, store.flows.recordingTotals(sessionId));
          if (totals) context.stdout.write(`${totals}\n`);
        }
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
