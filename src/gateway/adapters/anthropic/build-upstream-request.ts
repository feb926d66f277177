import { createRequestToolNameMap } from '../../protocol/tool-names.js';
import type { JsonRecord } from '../../protocol/read.js';
import type { ModelRequest, ReasoningOptions, ToolChoice, UpstreamRequest } from '../../protocol/types.js';
import { jsonInstruction, withProviderOptions } from '../shared/provider-options.js';
import { anthropicBlocksFromParts } from './content.js';
import { boundedUserId } from '../shared/user-id.js';

/** Anthropic requires `max_tokens`; callers of other protocols may omit it. */
export const DEFAULT_MAX_TOKENS = 8192;

const EFFORT_BUDGETS: Record<NonNullable<ReasoningOptions['effort']>, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
};

/** Neutral request → `POST /v1/messages` body for an Anthropic upstream. */
export function buildAnthropicUpstreamRequest(request: ModelRequest, upstreamModel: string): UpstreamRequest {
  const toolNames = createRequestToolNameMap(request);
  // An Anthropic caller's own thinking setting (adaptive, display) goes verbatim, with its sampling options.
  const callerThinking =
    request.providerOptions?.protocol === 'anthropic-messages' &&
    'thinking' in request.providerOptions.options;
  const budget = callerThinking ? undefined : thinkingBudget(request.reasoning, request.maxTokens);
  const body: JsonRecord = {
    model: upstreamModel,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS + (budget ?? 0),
    messages: request.messages
      .map((message) => ({
        role: message.role,
        // Anthropic wants tool results first in a user turn.
        content: anthropicBlocksFromParts(
          message.role === 'user' ? toolResultsFirst(message.content) : message.content,
          { forUpstream: true, toolNames },
        ),
      }))
      .filter((message) => message.content.length > 0),
  };
  if (request.system.length > 0) {
    body.system = request.system.map((part) =>
      part.cacheControl
        ? { type: 'text', text: part.text, cache_control: { ...part.cacheControl } }
        : { type: 'text', text: part.text },
    );
  }
  const tools = request.tools.flatMap((tool): JsonRecord[] => {
    if (tool.providerDefined) {
      return tool.providerDefined.protocol === 'anthropic-messages' ? [tool.providerDefined.definition] : [];
    }
    if (tool.original?.protocol === 'anthropic-messages') {
      return [{ ...tool.original.definition, name: toolNames.toUpstream(tool.name) }];
    }
    const encoded: JsonRecord = { name: toolNames.toUpstream(tool.name), input_schema: tool.inputSchema };
    if (tool.description !== undefined) encoded.description = tool.description;
    if (tool.cacheControl) encoded.cache_control = { ...tool.cacheControl };
    return [encoded];
  });
  if (tools.length > 0) {
    body.tools = tools;
    const choice = anthropicToolChoice(request.toolChoice, toolNames.toUpstream);
    if (request.parallelToolCalls === false) {
      body.tool_choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
    } else if (choice) {
      body.tool_choice = choice;
    }
  }
  if (budget !== undefined) {
    body.thinking = { type: 'enabled', budget_tokens: budget };
    // Anthropic refuses temperature, top_p < 0.95 and top_k together with thinking.
  } else {
    if (request.temperature !== undefined) body.temperature = Math.min(request.temperature, 1);
    if (request.topP !== undefined) body.top_p = request.topP;
    if (request.topK !== undefined) body.top_k = request.topK;
  }
  if (request.stopSequences !== undefined) body.stop_sequences = request.stopSequences;
  if (request.metadata?.userId !== undefined)
    body.metadata = { user_id: boundedUserId(request.metadata.userId, 256) };
  if (request.stream) body.stream = true;
  // Anthropic has no JSON mode: a caller's response_format becomes an instruction.
  const json = jsonInstruction(request);
  if (json !== undefined)
    body.system = [...((body.system as JsonRecord[] | undefined) ?? []), { type: 'text', text: json }];
  return { path: '/v1/messages', body: withProviderOptions(body, request, 'anthropic-messages'), toolNames };
}

/** Anthropic's smallest thinking budget. */
const MIN_BUDGET = 1024;

/**
 * The caller's budget as is, or one derived from an OpenAI effort. A derived budget must stay below
 * `max_tokens` (Anthropic refuses otherwise); when even the minimum does not fit, thinking is left off.
 */
function thinkingBudget(
  reasoning: ReasoningOptions | undefined,
  maxTokens: number | undefined,
): number | undefined {
  if (reasoning === undefined) return undefined;
  if (reasoning.budgetTokens !== undefined) return reasoning.budgetTokens;
  const budget = EFFORT_BUDGETS[reasoning.effort ?? 'medium'];
  if (maxTokens === undefined || budget < maxTokens) return budget;
  return maxTokens - 1 >= MIN_BUDGET ? maxTokens - 1 : undefined;
}

function toolResultsFirst<T extends { type: string }>(parts: T[]): T[] {
  if (!parts.some((part) => part.type === 'tool-result')) return parts;
  return [
    ...parts.filter((part) => part.type === 'tool-result'),
    ...parts.filter((part) => part.type !== 'tool-result'),
  ];
}

function anthropicToolChoice(
  choice: ToolChoice | undefined,
  rename: (name: string) => string,
): JsonRecord | undefined {
  switch (choice?.type) {
    case undefined:
      return undefined;
    case 'auto':
      return { type: 'auto' };
    case 'required':
      return { type: 'any' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      return { type: 'tool', name: rename(choice.name) };
  }
}
