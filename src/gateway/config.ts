import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WarrenError } from '../errors/index.js';
import type { ApiProtocol, IdentitySetting } from './protocol/types.js';
import { inferProvider, providers, type ProviderSpec } from './providers.js';

/**
 * The gateway reads LiteLLM's config format as is (model_list, general_settings.master_key,
 * router_settings / litellm_settings retries, timeouts and fallbacks). Keys Warren does not act on
 * are kept in `raw` and listed in `warnings`, so nothing is silently misread.
 */

const protocols = ['openai-chat', 'openai-responses', 'anthropic-messages'] as const;

const warrenEntrySchema = z
  .object({
    identity: z
      .union([z.literal(false), z.string().min(1)])
      .optional()
      .describe(
        'Identity rewriting for non-Anthropic upstreams: absent or "default" names the real model in place of ' +
          'Claude identity lines; "off" (or false) leaves the prompt alone; any other text replaces those lines.',
      ),
    identity_statement: z
      .union([z.literal(false), z.string().min(1)])
      .optional()
      .describe(
        'Statement of the real model added to the instructions of a non-Anthropic upstream whose prompt names ' +
          'another vendor\'s model or product; "{model}" stands for the model\'s name. Absent: a default ' +
          'statement naming the model (and its maker when known); false: none.',
      ),
    api: z
      .enum(protocols)
      .optional()
      .describe(
        "The protocol spoken to this upstream; defaults to the provider's (openai-chat or anthropic-messages).",
      ),
  })
  .passthrough();

const seconds = z.coerce.number().positive();

const entrySchema = z
  .object({
    model_name: z.string().min(1).describe('The name callers use; "*" or "prefix/*" match many names.'),
    litellm_params: z
      .object({
        model: z
          .string()
          .min(1)
          .describe('provider/model, e.g. openai/gpt-4o, anthropic/claude-sonnet-4-5, ollama/qwen3'),
        api_base: z
          .string()
          .min(1)
          .optional()
          .describe('Base URL of the API; the provider default when absent.'),
        api_key: z.string().optional(),
        timeout: seconds.optional().describe('Seconds before an upstream call is abandoned.'),
        stream_timeout: seconds
          .optional()
          .describe('Seconds to wait for the first byte of a streamed answer.'),
        weight: z.coerce
          .number()
          .positive()
          .optional()
          .describe('Relative share of traffic among same-name entries.'),
        extra_headers: z.record(z.string()).optional(),
        organization: z.string().optional(),
      })
      .passthrough(),
    model_info: z.record(z.unknown()).optional(),
    warren: warrenEntrySchema.optional(),
  })
  .passthrough();

const fallbacksSchema = z.array(z.record(z.array(z.string()))).optional();

const configSchema = z
  .object({
    model_list: z.array(entrySchema).default([]),
    general_settings: z
      .object({ master_key: z.string().min(1).optional() })
      .passthrough()
      .optional(),
    router_settings: z
      .object({
        num_retries: z.coerce.number().int().min(0).optional(),
        timeout: seconds.optional(),
        fallbacks: fallbacksSchema,
      })
      .passthrough()
      .optional(),
    litellm_settings: z
      .object({
        num_retries: z.coerce.number().int().min(0).optional(),
        request_timeout: seconds.optional(),
        fallbacks: fallbacksSchema,
      })
      .passthrough()
      .optional(),
    environment_variables: z.record(z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .passthrough();

/** One deployment: a place that can answer for `modelName`. */
export interface ModelEntry {
  /** Where it came from in the file, for messages: `model_list[2]`. */
  source: string;
  /** The name (or `*` pattern) callers use. */
  modelName: string;
  provider: ProviderSpec;
  /** Model name sent upstream; may contain `*`, replaced by what the caller's name matched. */
  upstreamModel: string;
  /** Base URL that protocol paths are appended to. */
  apiBase: string;
  apiKey: string | undefined;
  protocol: ApiProtocol;
  timeoutMs: number;
  /** Time allowed until the upstream's response headers arrive. */
  firstByteTimeoutMs: number;
  weight: number;
  headers: Record<string, string>;
  identity: IdentitySetting;
  /** `warren.identity_statement`: the text, `false` for none, absent for the default statement. */
  identityStatement?: string | false;
  /**
   * The entry's `model_info` (LiteLLM metadata such as max_tokens), kept as written; routing does not use
   * it. `supports_reasoning` says whether the model takes a reasoning effort (see call/fit-reasoning.ts).
   */
  info: Record<string, unknown>;
  /**
   * Set for `litellm_params.model: "*"`: the caller's model name is sent on as is, and its prefix or
   * family picks the provider per request (LiteLLM's pass-through). Holds each provider's key.
   */
  passThroughKeys?: Record<string, string | undefined>;
}

export interface GatewayConfig {
  models: ModelEntry[];
  masterKey: string | undefined;
  /** Extra attempts after the first, spread over a model name's deployments. */
  numRetries: number;
  /** model name → model names to try, in order, when all its deployments failed. */
  fallbacks: Record<string, string[]>;
  /** Keys Warren keeps but does not act on, and other things worth telling the user. */
  warnings: string[];
  /** The parsed file, unknown keys included. */
  raw: Record<string, unknown>;
}

const defaultTimeoutSeconds = 600;
const defaultNumRetries = 2;

const usedKeys = {
  top: ['model_list', 'general_settings', 'router_settings', 'litellm_settings', 'environment_variables'],
  entry: ['model_name', 'litellm_params', 'model_info', 'warren'],
  params: [
    'model',
    'api_base',
    'api_key',
    'timeout',
    'stream_timeout',
    'weight',
    'extra_headers',
    'organization',
  ],
  warren: ['identity', 'identity_statement', 'api'],
  general: ['master_key'],
  router: ['num_retries', 'timeout', 'fallbacks'],
  litellm: ['num_retries', 'request_timeout', 'fallbacks'],
};

function unusedKeys(value: unknown, used: string[], path: string): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !used.includes(key))
    .map((key) => `${path}${path ? '.' : ''}${key}: kept but not used by Warren`);
}

/** `os.environ/NAME` is LiteLLM's way to read a secret from the environment. */
function resolveEnvReference(
  value: string,
  path: string,
  lookup: (name: string) => string | undefined,
): string {
  const match = /^os\.environ\/(.+)$/.exec(value.trim());
  if (!match) return value;
  const name = match[1]!;
  const resolved = lookup(name);
  if (resolved === undefined || resolved === '') {
    throw new WarrenError('invalid-config', `${path}: environment variable ${name} is not set`, {
      hint: `export ${name}=… before starting the gateway, or put the value in the config file.`,
    });
  }
  return resolved;
}

function checkedUrl(value: string, path: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WarrenError('invalid-config', `${path}: "${value}" is not a URL`, {
      hint: 'Write it as http(s)://host[:port][/path].',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WarrenError(
      'invalid-config',
      `${path}: only http and https are supported, not ${url.protocol}`,
    );
  }
  return value;
}

/** LiteLLM reads a provider's usual variable when the entry names no key; so does Warren. */
function defaultKey(
  provider: ProviderSpec,
  lookup: (name: string) => string | undefined,
): string | undefined {
  return provider.apiKeyEnv ? lookup(provider.apiKeyEnv) || undefined : undefined;
}

/** For `model: "*"`: the key of every provider a caller's model name may pick, read once at load. */
function passThroughKeys(
  explicitKey: string | undefined,
  lookup: (name: string) => string | undefined,
): Record<string, string | undefined> {
  const keys: Record<string, string | undefined> = {};
  for (const spec of providers.values()) keys[spec.name] = explicitKey ?? defaultKey(spec, lookup);
  return keys;
}

function identityOf(value: false | string | undefined): IdentitySetting {
  if (value === undefined || value === 'default') return { mode: 'default' };
  if (value === false || value === 'off') return { mode: 'off' };
  return { mode: 'custom', text: value };
}

function formatZodError(error: z.ZodError, file: string): WarrenError {
  const problems = error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return new WarrenError('invalid-config', `${file} is not a valid gateway config:\n${problems.join('\n')}`, {
    hint: 'The format is LiteLLM\'s: model_list entries with model_name and litellm_params.model "provider/model".',
  });
}

function splitProviderModel(
  model: string,
  source: string,
): { provider: ProviderSpec; upstreamModel: string } {
  const slash = model.indexOf('/');
  const prefix = slash > 0 ? model.slice(0, slash) : undefined;
  if (prefix && providers.has(prefix))
    return { provider: providers.get(prefix)!, upstreamModel: model.slice(slash + 1) };
  // "*" alone: the caller's model name is sent on; its family (or prefix) picks the provider per request.
  if (model === '*') return { provider: providers.get('openai')!, upstreamModel: '*' };
  const inferred = prefix ? undefined : inferProvider(model);
  if (inferred) return { provider: providers.get(inferred)!, upstreamModel: model };
  throw new WarrenError(
    'invalid-config',
    `${source}.litellm_params.model: "${model}" names no provider Warren supports`,
    { hint: `Write it as provider/model with one of: ${[...providers.keys()].join(', ')}.` },
  );
}

/** Validates a parsed LiteLLM-style config and resolves its environment references. */
export function parseGatewayConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  file = 'gateway config',
): GatewayConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw formatZodError(parsed.error, file);
  const config = parsed.data;
  const fileVariables = config.environment_variables ?? {};
  // The process environment wins over the file's environment_variables (which LiteLLM would export).
  const lookup = (name: string) =>
    env[name] ?? (name in fileVariables ? String(fileVariables[name]) : undefined);
  const warnings = [
    ...unusedKeys(config, usedKeys.top, ''),
    ...unusedKeys(config.general_settings, usedKeys.general, 'general_settings'),
    ...unusedKeys(config.router_settings, usedKeys.router, 'router_settings'),
    ...unusedKeys(config.litellm_settings, usedKeys.litellm, 'litellm_settings'),
  ];
  const defaultTimeout =
    config.router_settings?.timeout ?? config.litellm_settings?.request_timeout ?? defaultTimeoutSeconds;

  const models = config.model_list.map((entry, index): ModelEntry => {
    const source = `model_list[${index}]`;
    warnings.push(
      ...unusedKeys(entry, usedKeys.entry, source),
      ...unusedKeys(entry.litellm_params, usedKeys.params, `${source}.litellm_params`),
      ...unusedKeys(entry.warren, usedKeys.warren, `${source}.warren`),
    );
    const params = entry.litellm_params;
    const { provider, upstreamModel } = splitProviderModel(params.model, source);
    const apiKey =
      params.api_key !== undefined
        ? resolveEnvReference(params.api_key, `${source}.litellm_params.api_key`, lookup)
        : defaultKey(provider, lookup);
    const apiBase = provider.normalizeApiBase(
      params.api_base
        ? checkedUrl(
            resolveEnvReference(params.api_base, `${source}.litellm_params.api_base`, lookup),
            `${source}.litellm_params.api_base`,
          )
        : provider.defaultApiBase,
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(params.extra_headers ?? {})) {
      headers[name.toLowerCase()] = resolveEnvReference(
        value,
        `${source}.litellm_params.extra_headers.${name}`,
        lookup,
      );
    }
    if (params.organization) headers['openai-organization'] = params.organization;
    const timeoutMs = (params.timeout ?? defaultTimeout) * 1000;
    const passThrough = params.model === '*';
    return {
      source,
      modelName: entry.model_name,
      provider,
      upstreamModel,
      apiBase,
      apiKey,
      protocol: entry.warren?.api ?? provider.protocol,
      timeoutMs,
      firstByteTimeoutMs: params.stream_timeout !== undefined ? params.stream_timeout * 1000 : timeoutMs,
      weight: params.weight ?? 1,
      headers,
      identity: identityOf(entry.warren?.identity),
      ...(entry.warren?.identity_statement !== undefined
        ? { identityStatement: entry.warren.identity_statement }
        : {}),
      info: entry.model_info ?? {},
      // With an explicit api_base, "*" means one OpenAI-compatible server that takes any name.
      ...(passThrough && !params.api_base
        ? { passThroughKeys: passThroughKeys(params.api_key !== undefined ? apiKey : undefined, lookup) }
        : {}),
    };
  });

  const fallbacks: Record<string, string[]> = {};
  for (const rule of [
    ...(config.litellm_settings?.fallbacks ?? []),
    ...(config.router_settings?.fallbacks ?? []),
  ]) {
    for (const [name, targets] of Object.entries(rule))
      fallbacks[name] = [...(fallbacks[name] ?? []), ...targets];
  }
  if (models.length === 0) warnings.push('model_list is empty: every model call will answer 404');
  const masterKey = config.general_settings?.master_key
    ? resolveEnvReference(config.general_settings.master_key, 'general_settings.master_key', lookup)
    : undefined;
  if (masterKey !== undefined && masterKey.length < 16) {
    warnings.push(
      `general_settings.master_key is only ${masterKey.length} characters: anyone who guesses it can use every model; use 32 or more random characters`,
    );
  }
  return {
    models,
    masterKey,
    numRetries:
      config.router_settings?.num_retries ?? config.litellm_settings?.num_retries ?? defaultNumRetries,
    fallbacks,
    warnings,
    raw: config as Record<string, unknown>,
  };
}

/**
 * The gateway's part of a warren.yaml, which holds LiteLLM's keys beside Warren's own: only those
 * keys are passed to `parseGatewayConfig`, so Warren's other settings are not reported as unknown.
 */
export function pickGatewayKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of usedKeys.top) if (raw[key] !== undefined) picked[key] = raw[key];
  return picked;
}

/** Reads and validates a YAML (or JSON) gateway config file. */
export function loadGatewayConfig(path: string, env: NodeJS.ProcessEnv): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WarrenError(
      'invalid-config',
      `cannot read gateway config ${path}: ${(error as Error).message}`,
      {
        hint: 'Pass the path of a LiteLLM-style YAML file with --config.',
        cause: error,
      },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new WarrenError('invalid-config', `${path} is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseGatewayConfig(raw, env, path);
}
