/**
 * Who makes which models and agents, as system prompts write their names. Rules as data: the rewrite
 * and the check build their patterns from this table, so a new vendor or product is one entry.
 */
export interface Vendor {
  id: string;
  /** The maker as prompts name it ("made by Anthropic"). */
  maker: string;
  /** Regular-expression source for its model names in prose and as ids (Claude Opus 4.8, claude-opus-4-8). */
  models: string;
  /** Regular-expression source for its agent products, which prompts present as "you" (Claude Code). */
  products?: string;
  /** Upstream model ids of this vendor, matched on the last segment of `provider/model`. */
  modelIds: RegExp;
}

// `Claude` alone is a model; `Claude Code`, `Claude Agent SDK` and `CLAUDE.md` are not.
const claude = String.raw`Claude\b(?! Code\b| Agent SDK\b)(?:[ -](?:Opus|Sonnet|Haiku|Mythos|Fable|Instant))?(?:[ -]\d+(?:\.\d+)*)?`;
// Names end on a letter or digit: the full stop after "based on GPT-5." is the sentence's, not the name's.
const tail = String.raw`(?:[\w.-]*\w)?`;
const version = String.raw`(?:[ -]?\d${tail})?`;

export const VENDORS: readonly Vendor[] = [
  {
    id: 'anthropic',
    maker: 'Anthropic',
    models: String.raw`${claude}|(?:Opus|Sonnet|Haiku|Mythos|Fable) \d+(?:\.\d+)*|claude-(?:\d|opus|sonnet|haiku|mythos|fable|instant)${tail}(?:\[\w+\])?`,
    products: String.raw`Claude Code|Claude Agent SDK`,
    modelIds: /^claude/i,
  },
  {
    id: 'openai',
    maker: 'OpenAI',
    models: String.raw`GPT-?\d${tail}|gpt-(?:\d|oss|4o)${tail}|ChatGPT|\bo[1-9](?:-mini|-pro)?\b`,
    products: String.raw`Codex(?: CLI)?`,
    modelIds: /^(?:gpt|o\d|codex|chatgpt|computer-use)/i,
  },
  {
    id: 'google',
    maker: 'Google',
    models: String.raw`Gemini${version}|gemini-(?:\d|pro|flash|exp)${tail}|Gemma${version}`,
    products: String.raw`Gemini CLI`,
    modelIds: /^(?:gemini|gemma)/i,
  },
  {
    id: 'xai',
    maker: 'xAI',
    models: String.raw`Grok${version}|grok-(?:\d|code|beta|vision)${tail}`,
    modelIds: /^grok/i,
  },
  { id: 'meta', maker: 'Meta', models: String.raw`Llama${version}`, modelIds: /llama/i },
  {
    id: 'mistral',
    maker: 'Mistral AI',
    models: String.raw`(?:Mistral|Codestral|Devstral|Magistral|Ministral)\b(?! AI)${version}`,
    modelIds: /^(?:mistral|codestral|devstral|magistral|ministral|pixtral)/i,
  },
  { id: 'deepseek', maker: 'DeepSeek', models: String.raw`DeepSeek${tail}`, modelIds: /deepseek/i },
  { id: 'alibaba', maker: 'Alibaba', models: String.raw`Qwen${tail}|QwQ`, modelIds: /qwen|qwq/i },
  { id: 'moonshot', maker: 'Moonshot AI', models: String.raw`Kimi${version}`, modelIds: /kimi|moonshot/i },
  { id: 'zhipu', maker: 'Zhipu AI', models: String.raw`GLM${tail}`, modelIds: /^glm/i },
];

/** Providers whose every model is their own, whatever the name. */
const PROVIDER_VENDORS: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  xai: 'xai',
  mistral: 'mistral',
  deepseek: 'deepseek',
};

/**
 * The vendor of an upstream model: by its provider when that provider serves only its own models, else
 * by the model's name (`openrouter/anthropic/claude-sonnet-4-5` is Claude). Unknown names (a local
 * fine-tune) have no vendor: every vendor's names are then foreign to it.
 */
export function vendorOfModel(providerName: string, upstreamModel: string): Vendor | undefined {
  const byProvider = PROVIDER_VENDORS[providerName];
  if (byProvider) return VENDORS.find((vendor) => vendor.id === byProvider);
  const name = upstreamModel.slice(upstreamModel.lastIndexOf('/') + 1);
  return VENDORS.find((vendor) => vendor.modelIds.test(name));
}
