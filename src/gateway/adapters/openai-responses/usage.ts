import { isRecord, type JsonRecord } from '../../protocol/read.js';
import type { FinishReason, Usage } from '../../protocol/types.js';
import { tokenCount } from '../shared/finish.js';

export function usageFromResponses(value: unknown): Partial<Usage> {
  if (!isRecord(value)) return {};
  const result: Partial<Usage> = {};
  const input = tokenCount(value.input_tokens);
  const output = tokenCount(value.output_tokens);
  if (input !== undefined) result.inputTokens = input;
  if (output !== undefined) result.outputTokens = output;
  const cacheRead = isRecord(value.input_tokens_details)
    ? tokenCount(value.input_tokens_details.cached_tokens)
    : undefined;
  if (cacheRead !== undefined && cacheRead > 0) result.cacheRead = cacheRead;
  const reasoning = isRecord(value.output_tokens_details)
    ? tokenCount(value.output_tokens_details.reasoning_tokens)
    : undefined;
  if (reasoning !== undefined && reasoning > 0) result.reasoningTokens = reasoning;
  return result;
}

/** The full usage object Codex CLI reads from `response.completed`. */
export function responsesUsage(usage: Usage): JsonRecord {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cacheRead ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A response's `status` and `incomplete_details` → neutral finish reason. */
export function finishReasonFromResponse(status: unknown, incompleteDetails: unknown): FinishReason {
  if (status === 'completed') return 'stop';
  if (status === 'failed') return 'error';
  if (status === 'incomplete') {
    const reason = isRecord(incompleteDetails) ? incompleteDetails.reason : undefined;
    if (reason === 'max_output_tokens') return 'length';
    if (reason === 'content_filter') return 'content-filter';
  }
  return 'other';
}

export function responseStatus(reason: FinishReason): {
  status: 'completed' | 'incomplete' | 'failed';
  incompleteDetails: JsonRecord | null;
} {
  switch (reason) {
    case 'length':
      return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
    case 'content-filter':
      return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
    case 'error':
      return { status: 'failed', incompleteDetails: null };
    case 'stop':
    case 'tool-calls':
    case 'other':
      return { status: 'completed', incompleteDetails: null };
  }
}
