import type { ModelRequest, Usage } from '../protocol/types.js';
import type { UsageRecord } from '../usage.js';
import type { CallContext, CallDependencies } from './call-context.js';

/** The fields a call knows only at its end; the rest of the row comes from the request. */
export type UsageOutcome = Partial<UsageRecord> & Pick<UsageRecord, 'status'>;

/** Writes the call's one usage row: what the caller asked for, plus what happened. */
export function createUsageRecorder(
  dependencies: CallDependencies,
  context: CallContext,
  request: ModelRequest,
): (outcome: UsageOutcome) => void {
  return (outcome) =>
    dependencies.usage?.record({
      startedAt: context.startedAt,
      sessionId: context.sessionId,
      tokenId: context.caller.tokenId,
      caller: context.caller.kind,
      protocol: context.route.protocol,
      endpoint: context.route.endpoint,
      model: request.model,
      upstream: null,
      apiBase: null,
      stream: request.stream,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      latencyMs: performance.now() - context.clock,
      timeToFirstTokenMs: null,
      attempts: 0,
      error: null,
      ...outcome,
    });
}

export function usageTotals(usage: Partial<Usage> | undefined) {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cacheReadTokens: usage?.cacheRead ?? 0,
    cacheWriteTokens: usage?.cacheWrite ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
  };
}
