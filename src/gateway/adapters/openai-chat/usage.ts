import { isRecord, type JsonRecord } from '../../protocol/read.js';
import type { Usage } from '../../protocol/types.js';
import { tokenCount } from '../shared/finish.js';

/** Chat completions `usage` → neutral. `prompt_tokens` already includes cached tokens. */
export function usageFromOpenAiChat(value: unknown): Partial<Usage> {
  if (!isRecord(value)) return {};
  const result: Partial<Usage> = {};
  const input = tokenCount(value.prompt_tokens);
  const output = tokenCount(value.completion_tokens);
  if (input !== undefined) result.inputTokens = input;
  if (output !== undefined) result.outputTokens = output;
  const cacheRead = isRecord(value.prompt_tokens_details)
    ? tokenCount(value.prompt_tokens_details.cached_tokens)
    : undefined;
  if (cacheRead !== undefined && cacheRead > 0) result.cacheRead = cacheRead;
  const reasoning = isRecord(value.completion_tokens_details)
    ? tokenCount(value.completion_tokens_details.reasoning_tokens)
    : undefined;
  if (reasoning !== undefined && reasoning > 0) result.reasoningTokens = reasoning;
  return result;
}

export function openAiChatUsage(usage: Usage): JsonRecord {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheRead ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}
