import type { ApiProtocol } from './protocol/types.js';

/** How a provider expects its API key. */
export type ProviderAuth = 'bearer' | 'x-api-key';

/** What Warren knows about one `provider/` prefix of LiteLLM's `litellm_params.model`. */
export interface ProviderSpec {
  name: string;
  /** The protocol Warren speaks to it. */
  protocol: ApiProtocol;
  /** Used when the model entry has no `api_base`. */
  defaultApiBase: string;
  auth: ProviderAuth;
  /** Read when the entry has no `api_key` (LiteLLM does the same); absent means no key is needed. */
  apiKeyEnv?: string;
  /** Whether identity rewriting is skipped: the model really is Claude. */
  isAnthropic: boolean;
  /**
   * Turns the configured api_base into the base that protocol paths are appended to. Ollama's
   * api_base is the server root in LiteLLM configs, but its OpenAI-compatible API lives under /v1.
   */
  normalizeApiBase(apiBase: string): string;
}

function trimSlash(base: string): string {
  return base.replace(/\/+$/, '');
}

function withV1(base: string): string {
  const trimmed = trimSlash(base);
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

/** Anthropic paths start with /v1, so a base that already ends in /v1 would double it. */
function withoutV1(base: string): string {
  return trimSlash(base).replace(/\/v1$/, '');
}

function openAiCompatible(
  name: string,
  defaultApiBase: string,
  apiKeyEnv?: string,
  normalizeApiBase: (base: string) => string = trimSlash,
): ProviderSpec {
  return {
    name,
    protocol: 'openai-chat',
    defaultApiBase,
    auth: 'bearer',
    ...(apiKeyEnv ? { apiKeyEnv } : {}),
    isAnthropic: false,
    normalizeApiBase,
  };
}

/** Rules as data: every provider Warren accepts, keyed by its LiteLLM prefix. */
export const providers: ReadonlyMap<string, ProviderSpec> = new Map(
  [
    openAiCompatible('openai', 'https://api.openai.com/v1', 'OPENAI_API_KEY'),
    {
      name: 'anthropic',
      protocol: 'anthropic-messages',
      defaultApiBase: 'https://api.anthropic.com',
      auth: 'x-api-key',
      apiKeyEnv: 'ANTHROPIC_API_KEY',
      isAnthropic: true,
      normalizeApiBase: withoutV1,
    } satisfies ProviderSpec,
    openAiCompatible('xai', 'https://api.x.ai/v1', 'XAI_API_KEY'),
    openAiCompatible('github', 'https://models.github.ai/inference', 'GITHUB_TOKEN'),
    openAiCompatible('ollama', 'http://localhost:11434', undefined, withV1),
    openAiCompatible('ollama_chat', 'http://localhost:11434', undefined, withV1),
    openAiCompatible('hosted_vllm', 'http://localhost:8000/v1', undefined, withV1),
    openAiCompatible('lm_studio', 'http://localhost:1234/v1', undefined, withV1),
    openAiCompatible('openrouter', 'https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY'),
    openAiCompatible('groq', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY'),
    openAiCompatible('deepseek', 'https://api.deepseek.com/v1', 'DEEPSEEK_API_KEY'),
    openAiCompatible('mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'),
    openAiCompatible('together_ai', 'https://api.together.xyz/v1', 'TOGETHERAI_API_KEY'),
    openAiCompatible('fireworks_ai', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY'),
  ].map((spec) => [spec.name, spec]),
);

/**
 * LiteLLM infers the provider of a bare model name from its price list; Warren only knows the
 * obvious families and asks for a prefix otherwise.
 */
export function inferProvider(model: string): string | undefined {
  if (/^claude/i.test(model)) return 'anthropic';
  if (/^(gpt-|o\d|chatgpt|text-embedding|codex)/i.test(model)) return 'openai';
  if (/^grok/i.test(model)) return 'xai';
  return undefined;
}

/** Upstream request headers that carry the key, in the provider's style. */
export function authHeaders(spec: ProviderSpec, apiKey: string | undefined): Record<string, string> {
  if (!apiKey) return {};
  return spec.auth === 'x-api-key' ? { 'x-api-key': apiKey } : { authorization: `Bearer ${apiKey}` };
}
