import type { ApiProtocol, ModelRequest } from '../protocol/types.js';
import type { Deployment } from '../router.js';

/**
 * Upstream models known to take an OpenAI reasoning effort. Others (gpt-4o, most open models behind
 * OpenAI-compatible servers, grok-4) refuse the field or ignore it, so an effort derived from Anthropic's
 * thinking settings is sent only to these, or to entries with `model_info.supports_reasoning: true`.
 */
const TAKES_REASONING_EFFORT = /^(?:o\d|gpt-5|gpt-oss|codex|grok-3-mini|gemini-(?:2\.5|[3-9]))/i;

export function takesReasoningEffort(deployment: Deployment): boolean {
  const declared = deployment.entry.info.supports_reasoning;
  if (typeof declared === 'boolean') return declared;
  const name = deployment.upstreamModel.slice(deployment.upstreamModel.lastIndexOf('/') + 1);
  return TAKES_REASONING_EFFORT.test(name);
}

/** Anthropic budgets → the OpenAI effort of about the same depth. */
function effortOfBudget(budgetTokens: number): string {
  if (budgetTokens < 4096) return 'low';
  if (budgetTokens < 16384) return 'medium';
  return 'high';
}

/**
 * An Anthropic caller's reasoning settings as an OpenAI upstream can take them. An OpenAI caller's own
 * effort goes on unchanged (it chose it for the model it named); an Anthropic caller's `output_config.effort`
 * (low…max, the same words) or thinking budget becomes `reasoning_effort` for a model that takes one, and
 * is left out with a note for one that does not. Adaptive thinking without an effort leaves the model's
 * default, which is what adaptive means.
 */
export function fitReasoning(
  request: ModelRequest,
  callerProtocol: ApiProtocol,
  deployment: Deployment,
  notes: string[],
): ModelRequest {
  const reasoning = request.reasoning;
  if (
    reasoning === undefined ||
    callerProtocol !== 'anthropic-messages' ||
    deployment.protocol === 'anthropic-messages'
  )
    return request;
  const { reasoning: _dropped, ...without } = request;
  if (reasoning.thinking === 'disabled') {
    notes.push('thinking "disabled" not sent: the upstream model reasons as it does by default');
    return without;
  }
  const asked = reasoning.effort ?? (reasoning.budgetTokens !== undefined ? 'budget' : undefined);
  if (asked === undefined) return without;
  if (!takesReasoningEffort(deployment)) {
    notes.push(
      `${reasoning.effort !== undefined ? `effort "${reasoning.effort}"` : `thinking budget ${reasoning.budgetTokens}`} ` +
        `not sent: ${deployment.label} is not known to take reasoning_effort (model_info.supports_reasoning: true says it does)`,
    );
    return without;
  }
  if (reasoning.effort !== undefined) return { ...without, reasoning: { effort: reasoning.effort } };
  const effort = effortOfBudget(reasoning.budgetTokens!);
  notes.push(`thinking budget ${reasoning.budgetTokens} sent as reasoning_effort "${effort}"`);
  return { ...without, reasoning: { effort } };
}
