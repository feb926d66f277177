import type { JsonRecord } from '../../protocol/read.js';
import type { Usage } from '../../protocol/types.js';
import { tokenCount } from '../shared/finish.js';

/** Anthropic `usage` → neutral (input counts cached tokens too, see `Usage`). */
export function usageFromAnthropic(value: unknown): Partial<Usage> {
  if (typeof value !== 'object' || value === null) return {};
  const usage = value as JsonRecord;
  const result: Partial<Usage> = {};
  const input = tokenCount(usage.input_tokens);
  const cacheRead = tokenCount(usage.cache_read_input_tokens);
  const cacheWrite = tokenCount(usage.cache_creation_input_tokens);
  if (input !== undefined) result.inputTokens = input + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const output = tokenCount(usage.output_tokens);
  if (output !== undefined) result.outputTokens = output;
  if (cacheRead !== undefined) result.cacheRead = cacheRead;
  if (cacheWrite !== undefined) result.cacheWrite = cacheWrite;
  return result;
}

export function anthropicUsage(usage: Partial<Usage>): JsonRecord {
  const cacheRead = usage.cacheRead ?? 0;
  const cacheWrite = usage.cacheWrite ?? 0;
  return {
    input_tokens: Math.max(0, (usage.inputTokens ?? 0) - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage.outputTokens ?? 0,
  };
}
