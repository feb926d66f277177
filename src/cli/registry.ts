import type { CliCommand } from './command.js';

/**
 * Every `warren <name>` subcommand, in the order `warren --help` lists them. Each module is loaded only
 * when its command runs, so `warren run` does not pay for the web server's imports, and so on.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CliCommand>;
}

export const commands: CommandEntry[] = [
  {
    name: 'run',
    summary: 'run a command in a contained, observed sandbox',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  {
    name: 'serve',
    summary: 'serve the web app and API (sessions, terminals, traffic)',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  {
    name: 'passwd',
    summary: 'set the password of the web app',
    load: async () => (await import('./commands/passwd.js')).passwdCommand,
  },
  {
    name: 'flows',
    summary: 'print recorded traffic (table, JSON lines or HAR)',
    load: async () => (await import('./commands/flows.js')).flowsCommand,
  },
  {
    name: 'proxy',
    summary: "run Warren's egress proxy alone (TLS interception, host policy, HAR)",
    load: async () => (await import('./commands/proxy.js')).proxyCommand,
  },
  {
    name: 'ca',
    summary: "print the path of Warren's CA certificate",
    load: async () => (await import('./commands/ca.js')).caCommand,
  },
  {
    name: 'gateway',
    summary: 'run the model gateway alone (LiteLLM-compatible config)',
    load: async () => (await import('./commands/gateway.js')).gatewayCommand,
  },
  {
    name: 'token',
    summary: 'create, list and revoke model gateway tokens',
    load: async () => (await import('./commands/token.js')).tokenCommand,
  },
  {
    name: 'usage',
    summary: 'summarise model gateway usage (tokens, latency, errors)',
    load: async () => (await import('./commands/usage.js')).usageCommand,
  },
  {
    name: 'image',
    summary: 'build the default agent image for the podman/docker drivers',
    load: async () => (await import('./commands/image.js')).imageCommand,
  },
  {
    name: 'cache',
    summary: 'list or clear the shared package caches',
    load: async () => (await import('./commands/cache.js')).cacheCommand,
  },
];
