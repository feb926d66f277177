import { createRequestToolNameMap } from '../../protocol/tool-names.js';
import type { JsonRecord } from '../../protocol/read.js';
import type { ModelRequest, ToolChoice, UpstreamRequest } from '../../protocol/types.js';
import { jsonInstruction, withProviderOptions } from '../shared/provider-options.js';
import { serviceTierFor, verbosityNote } from '../shared/settings.js';
import { anthropicBlocksFromParts } from './content.js';
import { boundedUserId } from '../shared/user-id.js';

/** Anthropic requires `max_tokens`; callers of other protocols may omit it. */
export const DEFAULT_MAX_TOKENS = 8192;

/** Budgets for an OpenAI effort sent to a Claude model that takes a budget rather than an effort. */
const EFFORT_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
  xhigh: 32768,
  max: 65536,
};

/** Anthropic's `output_config.effort` values; OpenAI's `minimal` becomes the lowest of them. */
const ANTHROPIC_EFFORTS: ReadonlySet<string> = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

/**
 * Claude models before Opus 4.6 / Sonnet 4.6 know only a thinking budget (`thinking.type: enabled`);
 * the newer ones take adaptive thinking and an effort, and the newest refuse a budget. Names this list
 * does not know are taken for newer Claude models; other vendors' Anthropic-compatible endpoints get a
 * budget, the form they copied.
 */
const BUDGET_ONLY_CLAUDE =
  /^claude-(?:instant|[23]\b|(?:opus|sonnet)-4(?:-[015])?(?:-\d{8})?$|(?:opus|sonnet)-4-[015]-|haiku-4-5)/;

function takesAdaptiveThinking(upstreamModel: string): boolean {
  return /^claude-/.test(upstreamModel) && !BUDGET_ONLY_CLAUDE.test(upstreamModel);
}

/** Neutral request → `POST /v1/messages` body for an Anthropic upstream. */
export function buildAnthropicUpstreamRequest(request: ModelRequest, upstreamModel: string): UpstreamRequest {
  const toolNames = createRequestToolNameMap(request);
  const notes: string[] = [];
  const fromAnthropic = request.providerOptions?.protocol === 'anthropic-messages';
  const callerOptions = fromAnthropic ? request.providerOptions!.options : {};
  // An Anthropic caller's own thinking setting (with `display`) goes verbatim, with its sampling options.
  const thinking = 'thinking' in callerOptions ? undefined : thinkingFor(request, upstreamModel, notes);
  const budget = thinking?.budget;
  const body: JsonRecord = {
    model: upstreamModel,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS + (budget ?? 0),
    messages: request.messages
      .map((message) => ({
        // Fields of an Anthropic caller's message the neutral model does not hold go back as they came.
        ...(message.providerOptions?.protocol === 'anthropic-messages'
          ? message.providerOptions.options
          : {}),
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
  if (thinking?.config !== undefined) body.thinking = thinking.config;
  // An effort goes in output_config, unless the Anthropic caller wrote its own (kept as written).
  if (thinking?.effort !== undefined && !('output_config' in callerOptions))
    body.output_config = { effort: thinking.effort };
  if (thinking?.thinks) {
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
  const serviceTier = serviceTierFor(request, 'anthropic-messages', notes);
  if (serviceTier !== undefined) body.service_tier = serviceTier;
  notes.push(...verbosityNote(request));
  // Anthropic's JSON mode is `output_config.format`, which not every model takes: another protocol's
  // response_format becomes an instruction; an Anthropic caller's own format is sent as written.
  const json = 'output_config' in callerOptions ? undefined : jsonInstruction(request);
  if (json !== undefined)
    body.system = [...((body.system as JsonRecord[] | undefined) ?? []), { type: 'text', text: json }];
  return {
    path: '/v1/messages',
    body: withProviderOptions(body, request, 'anthropic-messages', notes),
    toolNames,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Anthropic's smallest thinking budget. */
const MIN_BUDGET = 1024;

interface ThinkingSetting {
  /** The `thinking` object to send, if any. */
  config?: JsonRecord;
  /** The `output_config.effort` to send, if any. */
  effort?: string;
  /** Thinking is on (Anthropic then refuses some sampling options). */
  thinks: boolean;
  /** The budget sent, counted into the default max_tokens. */
  budget?: number;
}

/**
 * The caller's reasoning settings as Anthropic spells them. A budget or a thinking type the caller gave
 * is sent as given. An OpenAI effort becomes adaptive thinking and an effort for newer Claude models, and
 * a budget for older ones and other vendors' endpoints; `none` leaves thinking off.
 */
function thinkingFor(
  request: ModelRequest,
  upstreamModel: string,
  notes: string[],
): ThinkingSetting | undefined {
  const reasoning = request.reasoning;
  if (reasoning === undefined) return undefined;
  if (reasoning.budgetTokens !== undefined || reasoning.thinking !== undefined) {
    const effort = anthropicEffort(reasoning.effort, notes);
    const budget = reasoning.budgetTokens;
    return budget !== undefined
      ? { config: { type: 'enabled', budget_tokens: budget }, effort, thinks: true, budget }
      : { config: { type: reasoning.thinking }, effort, thinks: reasoning.thinking !== 'disabled' };
  }
  if (reasoning.effort === 'none') return { thinks: false };
  if (takesAdaptiveThinking(upstreamModel)) {
    return { config: { type: 'adaptive' }, effort: anthropicEffort(reasoning.effort, notes), thinks: true };
  }
  let wanted = EFFORT_BUDGETS[reasoning.effort ?? 'medium'];
  if (wanted === undefined) {
    notes.push(`reasoning effort "${reasoning.effort}" is unknown here: sent as a "medium" thinking budget`);
    wanted = EFFORT_BUDGETS.medium!;
  }
  const budget = budgetBelow(wanted, request.maxTokens);
  return budget === undefined
    ? { thinks: false }
    : { config: { type: 'enabled', budget_tokens: budget }, thinks: true, budget };
}

function anthropicEffort(effort: string | undefined, notes: string[]): string | undefined {
  if (effort === undefined || effort === 'none') return undefined;
  if (ANTHROPIC_EFFORTS.has(effort)) return effort;
  if (effort === 'minimal') {
    notes.push('reasoning effort "minimal" sent as "low", the lowest Anthropic effort');
    return 'low';
  }
  notes.push(`reasoning effort "${effort}" not sent: Anthropic has no such effort`);
  return undefined;
}

/**
 * A derived budget must stay below `max_tokens` (Anthropic refuses otherwise); when even the minimum
 * does not fit, thinking is left off.
 */
function budgetBelow(budget: number, maxTokens: number | undefined): number | undefined {
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
