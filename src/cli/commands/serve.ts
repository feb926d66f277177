import { resolve } from 'node:path';
import { WarrenError } from '../../errors/index.js';
import { startServer } from '../../server/serve.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs, parsePositiveInteger } from '../parse.js';

const usage =
  'warren serve [--port 7777] [--host 127.0.0.1] [--public-url URL] [--tls-cert FILE --tls-key FILE] [--force-insecure-bind]';

const help = `Usage: ${usage}

Serves Warren's web app and JSON API: start agent sessions in sandboxes, watch their terminals and
their traffic, from a browser or a phone.

Options:
  --port N               port to listen on (default 7777; 0 picks a free one)
  --host ADDRESS         address to bind (default 127.0.0.1)
  --public-url URL       the address browsers use, e.g. https://machine.tailnet.ts.net behind
                         \`tailscale serve\`: its name is accepted as Host, and links are printed with it
  --tls-cert FILE        serve HTTPS with this certificate (PEM) …
  --tls-key FILE         … and this private key (PEM)
  --force-insecure-bind  allow plain HTTP on a non-loopback address (the password would cross the network in clear)
  --config PATH          config file (default: $WARREN_HOME/warren.yaml)
  -h, --help             show this help

On first start, with no password set, it prints a one-time setup link where you choose the password
(or set it with \`warren passwd\`). For access from other devices, keep the loopback bind and put an
HTTPS proxy in front, e.g. \`tailscale serve 7777\`, and pass its name with --public-url (or list it
in serve.hosts in warren.yaml).

Requests whose Host header is not loopback (localhost, 127.x, ::1), the bound address (with
--host 0.0.0.0 or ::, any address of this machine), the --public-url name or a serve.hosts name are
answered 421: this stops DNS-rebinding pages. See docs/serve.md.
`;

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve the web app and API (sessions, terminals, traffic)',
  help,
  async run(args, context) {
    const { values } = parseCommandArgs(
      args,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'force-insecure-bind': { type: 'boolean' },
        'public-url': { type: 'string' },
        config: { type: 'string' },
      },
      usage,
    );
    if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
      throw new WarrenError('invalid-argument', '--tls-cert and --tls-key go together', {
        hint: `usage: ${usage}`,
      });
    }
    const port = values.port === '0' ? 0 : (parsePositiveInteger(values.port, '--port') ?? 7777);
    const log = (line: string) => context.stderr.write(`${line}\n`);
    const server = await startServer({
      env: context.env,
      ...(values.config ? { configPath: resolve(context.cwd, values.config) } : {}),
      host: values.host ?? '127.0.0.1',
      port,
      ...(values['tls-cert'] && values['tls-key']
        ? {
            tls: {
              certPath: resolve(context.cwd, values['tls-cert']),
              keyPath: resolve(context.cwd, values['tls-key']),
            },
          }
        : {}),
      forceInsecureBind: values['force-insecure-bind'] ?? false,
      ...(values['public-url'] !== undefined ? { publicUrl: values['public-url'] } : {}),
      log,
    });
    // One write: a reader of the pipe (a supervisor, a test) never sees the address without the setup link.
    context.stdout.write(
      `Warren is serving on ${server.url}${server.publicUrl !== server.url ? ` (browsers: ${server.publicUrl})` : ''}\n` +
        (server.setupUrl
          ? `No password is set yet. Open this one-time link to choose it (or run \`warren passwd\`):\n  ${server.setupUrl}\n`
          : ''),
    );
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    context.stderr.write('warren: stopping sessions…\n');
    await server.close();
    return 0;
  },
};
