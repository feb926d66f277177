import type { GatewayConfig, ModelEntry } from './config.js';
import type { ApiProtocol } from './protocol/types.js';
import { inferProvider, providers, type ProviderSpec } from './providers.js';

/** One concrete upstream for one call: an entry with its `*` filled in. */
export interface Deployment {
  entry: ModelEntry;
  provider: ProviderSpec;
  protocol: ApiProtocol;
  upstreamModel: string;
  apiBase: string;
  apiKey: string | undefined;
  /** `provider/model`, for logs and usage. */
  label: string;
}

export interface Attempt {
  deployment: Deployment;
  /** Wait this long before trying (back-off when a deployment is tried again). */
  delayMs: number;
}

export interface Router {
  /**
   * The attempts for a caller's model name, in order: its deployments load-balanced, then retries,
   * then the deployments of its fallback names. Empty when no entry matches.
   */
  plan(modelName: string): Attempt[];
  /** Names to list on /v1/models (patterns such as `*` are left out). */
  modelNames(): string[];
  /** A failed deployment is tried last for a while (cool-down). */
  reportFailure(deployment: Deployment): void;
  reportSuccess(deployment: Deployment): void;
}

export interface RouterOptions {
  /** For reproducible load balancing in tests. */
  random?: () => number;
  now?: () => number;
  cooldownMs?: number;
  /** First back-off before a deployment is tried again; doubles each time. */
  retryDelayMs?: number;
  /** No call makes more attempts than this, whatever the config says. */
  maxAttempts?: number;
}

/** `openai/*` matches `openai/gpt-4o` capturing `gpt-4o`; `*` captures the whole name. */
function matchPattern(pattern: string, name: string): string | undefined {
  if (!pattern.includes('*')) return pattern === name ? '' : undefined;
  const [before, after] = [pattern.slice(0, pattern.indexOf('*')), pattern.slice(pattern.indexOf('*') + 1)];
  if (after.includes('*')) return undefined;
  if (name.length < before.length + after.length || !name.startsWith(before) || !name.endsWith(after))
    return undefined;
  return name.slice(before.length, name.length - after.length);
}

function literalLength(pattern: string): number {
  return pattern.replace('*', '').length;
}

function deploymentOf(entry: ModelEntry, requested: string, captured: string): Deployment {
  if (entry.passThroughKeys) {
    // LiteLLM's pass-through: the caller's name says which provider, e.g. anthropic/claude-… or gpt-4o.
    const slash = requested.indexOf('/');
    const prefix = slash > 0 ? requested.slice(0, slash) : undefined;
    const providerName =
      prefix && providers.has(prefix) ? prefix : (inferProvider(requested) ?? entry.provider.name);
    const provider = providers.get(providerName)!;
    const upstreamModel = prefix && providers.has(prefix) ? requested.slice(slash + 1) : requested;
    return {
      entry,
      provider,
      protocol: provider.protocol,
      upstreamModel,
      apiBase: provider.normalizeApiBase(provider.defaultApiBase),
      apiKey: entry.passThroughKeys[providerName],
      label: `${provider.name}/${upstreamModel}`,
    };
  }
  const upstreamModel = entry.upstreamModel.includes('*')
    ? entry.upstreamModel.replace('*', captured || requested)
    : entry.upstreamModel;
  return {
    entry,
    provider: entry.provider,
    protocol: entry.protocol,
    upstreamModel,
    apiBase: entry.apiBase,
    apiKey: entry.apiKey,
    label: `${entry.provider.name}/${upstreamModel}`,
  };
}

/** Weighted random order without replacement (LiteLLM's default "simple-shuffle"). */
function weightedShuffle<T extends { entry: ModelEntry }>(items: T[], random: () => number): T[] {
  const pool = [...items];
  const ordered: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, item) => sum + item.entry.weight, 0);
    let pick = random() * total;
    let index = 0;
    while (index < pool.length - 1 && pick >= pool[index]!.entry.weight) pick -= pool[index++]!.entry.weight;
    ordered.push(pool.splice(index, 1)[0]!);
  }
  return ordered;
}

export function createRouter(config: GatewayConfig, options: RouterOptions = {}): Router {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const cooldownMs = options.cooldownMs ?? 5_000;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const maxAttempts = options.maxAttempts ?? 10;
  const failedAt = new Map<ModelEntry, number>();
  const exact = new Map<string, ModelEntry[]>();
  const patterns: ModelEntry[] = [];
  for (const entry of config.models) {
    if (entry.modelName.includes('*')) patterns.push(entry);
    else exact.set(entry.modelName, [...(exact.get(entry.modelName) ?? []), entry]);
  }
  // The most specific pattern wins: `openai/*` before `*`.
  patterns.sort((a, b) => literalLength(b.modelName) - literalLength(a.modelName));

  const deploymentsFor = (modelName: string): Deployment[] => {
    const entries = exact.get(modelName);
    if (entries) return entries.map((entry) => deploymentOf(entry, modelName, ''));
    for (const pattern of patterns) {
      const captured = matchPattern(pattern.modelName, modelName);
      if (captured === undefined) continue;
      // Every entry with that same pattern shares the load.
      return patterns
        .filter((entry) => entry.modelName === pattern.modelName)
        .map((entry) => deploymentOf(entry, modelName, captured));
    }
    return [];
  };

  const balanced = (deployments: Deployment[]): Deployment[] => {
    const cutoff = now() - cooldownMs;
    const healthy = deployments.filter((item) => (failedAt.get(item.entry) ?? -Infinity) < cutoff);
    const cooling = deployments.filter((item) => (failedAt.get(item.entry) ?? -Infinity) >= cutoff);
    return [...weightedShuffle(healthy, random), ...weightedShuffle(cooling, random)];
  };

  return {
    plan(modelName) {
      const primary = balanced(deploymentsFor(modelName));
      const attempts: Attempt[] = primary.map((deployment) => ({ deployment, delayMs: 0 }));
      for (let retry = 0; retry < config.numRetries && primary.length > 0; retry++) {
        // Each retry goes back to a deployment that already failed once: back off, doubling per round.
        attempts.push({
          deployment: primary[retry % primary.length]!,
          delayMs: retryDelayMs * 2 ** Math.floor(retry / primary.length),
        });
      }
      const seen = new Set([modelName]);
      for (const fallback of config.fallbacks[modelName] ?? []) {
        if (seen.has(fallback)) continue;
        seen.add(fallback);
        for (const deployment of balanced(deploymentsFor(fallback)))
          attempts.push({ deployment, delayMs: 0 });
      }
      return attempts.slice(0, maxAttempts);
    },
    modelNames() {
      return [...exact.keys()];
    },
    reportFailure(deployment) {
      failedAt.set(deployment.entry, now());
    },
    reportSuccess(deployment) {
      failedAt.delete(deployment.entry);
    },
  };
}
