import { createWriteStream, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openHome } from '../../config/index.js';
import { WarrenError } from '../../errors/index.js';
import {
  createCertificateAuthority,
  createEgressProxy,
  flowsToHar,
  policyFromArguments,
  type FlowRecord,
  type FlowSink,
} from '../../proxy/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs } from '../parse.js';

const usage =
  'warren proxy [--port N] [--host H] [--allow RULE]… [--deny RULE]… [--har PATH] [--keylog PATH]';

const help = `Usage: ${usage}

Runs Warren's egress proxy alone, like mitmdump: an HTTP proxy (absolute URLs and CONNECT) that
intercepts TLS with Warren's CA, applies the host policy, and logs one line per flow.

Options:
  --port N        TCP port (default 8080; 0 picks a free one)
  --host H        address to listen on (default 127.0.0.1)
  --allow RULE    allow a host: example.com, *.example.com, 203.0.113.7, 10.0.0.0/8, each with an
                  optional :port ([v6]:port for IPv6). Repeatable. Everything else is denied.
  --deny RULE     deny a host even if an --allow rule matches. Repeatable.
  --har PATH      write every flow as HAR 1.2 to PATH when stopped (Ctrl-C or SIGTERM)
  --keylog PATH   append TLS secrets in NSS key log format (for Wireshark) to PATH

Loopback, private, link-local and metadata addresses are refused unless a rule names that
exact host or IP; a wildcard or CIDR never grants them.
`;

export interface ProxyCommandDependencies {
  /** Also receives every flow (the store's sink, for instance); the command keeps its own list for --har. */
  sink?: FlowSink;
  /** Resolves when the proxy should stop; default: the first SIGINT or SIGTERM. */
  stopSignal?: () => Promise<string>;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolveSignal(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8080;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new WarrenError('invalid-argument', `--port must be a number from 0 to 65535, got "${text}"`);
  }
  return Number(text);
}

function formatBytes(size: number): string {
  return size < 1024 ? `${size} B` : `${(size / 1024).toFixed(1)} KiB`;
}

/** One line per flow: time, decision, method, URL, status, duration, size, and why when refused or failed. */
export function formatFlowLine(flow: FlowRecord): string {
  const time = new Date(flow.startedAt).toISOString().slice(11, 23);
  const status = flow.response ? String(flow.response.status) : '---';
  const size = flow.response ? formatBytes(flow.response.body.size) : '-';
  const duration = flow.durationMs >= 0 ? `${Math.round(flow.durationMs)}ms` : '-';
  const decision = flow.policy.decision === 'allow' ? 'allow' : 'DENY ';
  let line = `${time} ${decision} ${flow.method} ${flow.url} ${status} ${duration} ${size}`;
  if (flow.policy.decision === 'deny') line += ` (${flow.policy.reason})`;
  if (flow.error !== undefined) line += ` [${flow.error}]`;
  return line;
}

export function createProxyCommand(dependencies: ProxyCommandDependencies = {}): CliCommand {
  return {
    name: 'proxy',
    summary: "run Warren's egress proxy alone (TLS interception, host policy, HAR)",
    help,
    async run(args, context) {
      const { values } = parseCommandArgs(
        args,
        {
          port: { type: 'string' },
          host: { type: 'string' },
          allow: { type: 'string', multiple: true },
          deny: { type: 'string', multiple: true },
          har: { type: 'string' },
          keylog: { type: 'string' },
        },
        usage,
      );
      const port = parsePort(values.port);
      const host = values.host ?? '127.0.0.1';
      const policy = policyFromArguments({ allow: values.allow ?? [], deny: values.deny ?? [] });
      const home = openHome(context.env);
      const ca = await createCertificateAuthority({ dir: home.caDir });
      const flows: FlowRecord[] = [];
      const sink: FlowSink = {
        record(flow) {
          if (values.har !== undefined) flows.push(flow);
          context.stdout.write(`${formatFlowLine(flow)}\n`);
          dependencies.sink?.record(flow);
        },
      };
      const keylog = values.keylog
        ? createWriteStream(resolve(context.cwd, values.keylog), { flags: 'a', mode: 0o600 })
        : undefined;
      keylog?.on('error', (error) =>
        context.stderr.write(`warren proxy: cannot write the key log: ${error.message}\n`),
      );
      const proxy = createEgressProxy({
        ca,
        sink,
        env: context.env,
        logger: { warn: (message) => context.stderr.write(`warren proxy: ${message}\n`) },
      });
      const stopped = (dependencies.stopSignal ?? waitForSignal)();
      const listener = await proxy.listen(
        { port, host },
        { id: 'proxy', policy, ...(keylog ? { onKeylog: (line: Buffer) => keylog.write(line) } : {}) },
      );
      const shownHost = host.includes(':') ? `[${host}]` : host;
      const proxyUrl = `http://${shownHost}:${listener.address}`;
      context.stdout.write(
        [
          `Warren egress proxy listening on ${proxyUrl}`,
          `CA certificate: ${ca.certificatePath}`,
          `  trust it per client: curl --proxy ${proxyUrl} --cacert ${ca.certificatePath} https://…`,
          `  Node: NODE_EXTRA_CA_CERTS=${ca.certificatePath}   Python requests: a bundle with it in REQUESTS_CA_BUNDLE`,
          'Policy:',
          ...policy.explain().map((line) => `  ${line}`),
          values.har ? `Stop with Ctrl-C; the HAR goes to ${values.har}.` : 'Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
      await stopped;
      await listener.close();
      await proxy.close();
      if (keylog) await new Promise<void>((done) => keylog.end(done));
      if (values.har !== undefined) {
        const harPath = resolve(context.cwd, values.har);
        writeFileSync(harPath, `${JSON.stringify(flowsToHar(flows), null, 2)}\n`);
        context.stdout.write(`Wrote ${flows.length} flows to ${harPath}\n`);
      }
      return 0;
    },
  };
}

export const proxyCommand: CliCommand = createProxyCommand();
