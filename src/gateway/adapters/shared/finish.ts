import type { FinishReason, Usage } from '../../protocol/types.js';

/**
 * Agents decide whether to run tools from the stop reason. Some OpenAI-compatible servers (Ollama, vLLM)
 * answer `stop` although they emitted tool calls; a caller must still see `tool_use` / `tool_calls`.
 * A truncated call (`length`) stays `length`.
 */
export function finishReasonWithToolCalls(reason: FinishReason, emittedToolCall: boolean): FinishReason {
  return emittedToolCall && (reason === 'stop' || reason === 'other') ? 'tool-calls' : reason;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}

/** Later reports win field by field; absent fields keep what was known. */
export function mergeUsage(known: Usage, update: Partial<Usage>): Usage {
  const merged: Usage = { ...known };
  if (update.inputTokens !== undefined) merged.inputTokens = update.inputTokens;
  if (update.outputTokens !== undefined) merged.outputTokens = update.outputTokens;
  if (update.cacheRead !== undefined) merged.cacheRead = update.cacheRead;
  if (update.cacheWrite !== undefined) merged.cacheWrite = update.cacheWrite;
  if (update.reasoningTokens !== undefined) merged.reasoningTokens = update.reasoningTokens;
  return merged;
}

/** A non-negative integer count from an upstream field, or undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}
