import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { openHome } from '../../config/index.js';
import { describeWriteStatus, openStore, type Store } from '../../store/index.js';
import { WarrenError } from '../../errors/index.js';
import {
  createGateway,
  createStoredTokenVerifier,
  loadGatewayConfig,
  parseGatewayConfig,
  pickGatewayKeys,
  type Gateway,
  type GatewayConfig,
} from '../../gateway/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs, parsePositiveInteger } from '../parse.js';

export type GatewayStore = Pick<Store, 'tokens' | 'usage' | 'close'>;

/**
 * WARREN_HOME's database, where tokens are kept and usage is recorded. A disk that refuses usage rows
 * is told to `warn` (default: stderr), never thrown: the gateway keeps answering.
 */
export function openGatewayStore(env: NodeJS.ProcessEnv, warn?: (line: string) => void): GatewayStore {
  return openStore(
    openHome(env).databasePath,
    warn ? { onWriteStatus: (status) => warn(`gateway: ${describeWriteStatus(status)}`) } : {},
  );
}

const usage = 'warren gateway [--config FILE] [--port N] [--host H] [--quiet]';

const help = `${usage}

Runs the model gateway alone, like \`litellm --config\`: OpenAI chat completions and Responses and
Anthropic Messages in front of any provider in the config.

Options:
  --config FILE   LiteLLM-style YAML (model_list, general_settings.master_key, router_settings...).
                  Default: the model_list in $WARREN_HOME/warren.yaml.
  --port N        Port to listen on (default 4000).
  --host H        Address to listen on (default 127.0.0.1).
  --quiet         Do not print one line per request.

Endpoints: POST /v1/chat/completions, /v1/responses, /v1/messages, /v1/messages/count_tokens;
GET /v1/models, /health. Callers authenticate with the master key or a token from
\`warren token create\`, as "Authorization: Bearer <key>" or "x-api-key: <key>".
Every call is recorded in $WARREN_HOME's database; \`warren usage\` summarises.
`;

function readConfig(configPath: string | undefined, cwd: string, env: NodeJS.ProcessEnv): GatewayConfig {
  if (configPath) return loadGatewayConfig(resolve(cwd, configPath), env);
  const home = openHome(env);
  if (!existsSync(home.configPath)) {
    throw new WarrenError(
      'invalid-config',
      `no gateway config: --config was not given and ${home.configPath} does not exist`,
      {
        hint: 'pass a LiteLLM-style file: warren gateway --config litellm-config.yaml',
      },
    );
  }
  const raw = (parseYaml(readFileSync(home.configPath, 'utf8')) ?? {}) as Record<string, unknown>;
  return parseGatewayConfig(pickGatewayKeys(raw), env, home.configPath);
}

export interface RunningGateway {
  gateway: Gateway;
  store: GatewayStore;
  url: string;
  close(): Promise<void>;
}

/** Everything `warren gateway` does before waiting for a signal; tests call it directly. */
export async function startStandaloneGateway(options: {
  config: GatewayConfig;
  env: NodeJS.ProcessEnv;
  port: number;
  host: string;
  log?: (line: string) => void;
  /** Warnings (identity claims sent to a model); shown even with --quiet. */
  warn?: (line: string) => void;
}): Promise<RunningGateway> {
  const store = openGatewayStore(options.env, options.warn);
  const gateway = createGateway({
    config: options.config,
    tokens: createStoredTokenVerifier(store.tokens),
    usage: store.usage,
    ...(options.log ? { log: options.log } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
  let address;
  try {
    address = await gateway.listen(options.port, options.host);
  } catch (error) {
    await gateway.close();
    store.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new WarrenError(
      'invalid-argument',
      `cannot listen on ${options.host}:${options.port}: ${code ?? String(error)}`,
      {
        hint: code === 'EADDRINUSE' ? 'another process holds that port; pick another with --port' : undefined,
        cause: error,
      },
    );
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    gateway,
    store,
    url: `http://${host}:${address.port}`,
    async close() {
      await gateway.close();
      store.close();
    },
  };
}

export const gatewayCommand: CliCommand = {
  name: 'gateway',
  summary: 'Run the model gateway alone (LiteLLM-compatible config)',
  help,
  async run(args, context) {
    const { values } = parseCommandArgs(
      args,
      {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        quiet: { type: 'boolean' },
      },
      usage,
    );
    const config = readConfig(values.config, context.cwd, context.env);
    for (const warning of config.warnings) context.stderr.write(`warren gateway: warning: ${warning}\n`);
    if (!config.masterKey) {
      context.stderr.write(
        'warren gateway: no general_settings.master_key: only tokens from `warren token create` are accepted\n',
      );
    }
    const running = await startStandaloneGateway({
      config,
      env: context.env,
      port: parsePositiveInteger(values.port, '--port') ?? 4000,
      host: values.host ?? '127.0.0.1',
      ...(values.quiet ? {} : { log: (line: string) => context.stdout.write(`${line}\n`) }),
      warn: (line: string) => context.stderr.write(`warren ${line}\n`),
    });
    const names = config.models.map((model) => model.modelName);
    context.stdout.write(
      `warren gateway listening on ${running.url} (${names.length} model entr${names.length === 1 ? 'y' : 'ies'}: ${[...new Set(names)].join(', ')})\n` +
        `  OPENAI_BASE_URL=${running.url}/v1  ANTHROPIC_BASE_URL=${running.url}\n`,
    );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    context.stdout.write('warren gateway: stopping\n');
    await running.close();
    return 0;
  },
};
