import { optionalString, type JsonRecord } from '../../protocol/read.js';
import type { ApiProtocol, ModelRequest } from '../../protocol/types.js';

/**
 * Settings that every protocol has in some form (reasoning effort, service tier, verbosity): read once
 * into the neutral request, and mapped to each upstream's spelling by these small tables. What has no
 * equivalent is left out with a note that the call path records (never a 400 for a valid request).
 */

/**
 * OpenAI's reasoning effort (chat `reasoning_effort`, Responses `reasoning.effort`) or Anthropic's
 * `output_config.effort`. Any string is accepted: the documented ones are in `REASONING_EFFORTS`, and a
 * value from a newer client goes on as written to upstreams of its own family.
 */
export function parseEffort(value: unknown, path: string): string | undefined {
  const effort = optionalString(value, path);
  return effort === '' ? undefined : effort;
}

/** `service_tier`, spelled alike by all three protocols but with each protocol's own values. */
export function readServiceTier(record: JsonRecord, protocol: ApiProtocol, request: ModelRequest): void {
  const value = optionalString(record.service_tier, 'service_tier');
  if (value !== undefined && value !== '') request.serviceTier = { protocol, value };
}

const isOpenAi = (protocol: ApiProtocol) => protocol !== 'anthropic-messages';

/**
 * The service tier for an upstream of `target`'s protocol. The defaults (OpenAI `auto`, Anthropic `auto`)
 * mean the same and are simply left out; OpenAI's `default` and Anthropic's `standard_only` both ask for
 * standard capacity; OpenAI's `priority` is Anthropic's `auto` (priority capacity where the organisation
 * has it). OpenAI's `flex` and `scale` have no Anthropic equivalent.
 */
export function serviceTierFor(
  request: ModelRequest,
  target: ApiProtocol,
  notes: string[],
): string | undefined {
  const tier = request.serviceTier;
  if (tier === undefined) return undefined;
  if (isOpenAi(tier.protocol) === isOpenAi(target)) return tier.value;
  if (target === 'anthropic-messages') {
    switch (tier.value) {
      case 'auto':
        return undefined;
      case 'default':
        return 'standard_only';
      case 'priority':
        notes.push(
          'service_tier "priority" sent as "auto": Anthropic uses priority capacity where it has it',
        );
        return 'auto';
      default:
        notes.push(`service_tier "${tier.value}" not sent: Anthropic has no such tier`);
        return undefined;
    }
  }
  switch (tier.value) {
    case 'auto':
      return undefined;
    case 'standard_only':
      return 'default';
    default:
      notes.push(`service_tier "${tier.value}" not sent: OpenAI has no such tier`);
      return undefined;
  }
}

/** Verbosity exists in OpenAI's two APIs only. */
export function verbosityNote(request: ModelRequest): string[] {
  return request.verbosity === undefined
    ? []
    : [`verbosity "${request.verbosity}" not sent: Anthropic has no verbosity setting`];
}
