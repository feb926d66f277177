import type { JsonRecord } from '../../protocol/read.js';
import type { ApiProtocol, ModelRequest } from '../../protocol/types.js';

/**
 * The caller's top-level fields that a parser did not read, kept for upstreams of the same protocol so that
 * a request between two ends of one protocol loses nothing (`seed`, `logit_bias`, `service_tier`, betas'
 * fields). `known` lists every field the parser reads or deliberately ignores.
 */
export function unknownFields(
  record: JsonRecord,
  known: ReadonlySet<string>,
  protocol: ApiProtocol,
): ModelRequest['providerOptions'] {
  let options: JsonRecord | undefined;
  for (const key of Object.keys(record)) {
    if (known.has(key) || record[key] === undefined) continue;
    options ??= {};
    options[key] = record[key];
  }
  return options === undefined ? undefined : { protocol, options };
}

/**
 * The body with the caller's unread fields of the same protocol underneath the fields the builder set.
 * For an upstream of another protocol they are dropped, and named in `notes`: even fields that OpenAI's
 * two APIs spell alike are not carried over, since OpenAI-compatible servers differ in what they refuse.
 */
export function withProviderOptions(
  body: JsonRecord,
  request: ModelRequest,
  protocol: ApiProtocol,
  notes?: string[],
): JsonRecord {
  const extra = request.providerOptions;
  if (extra === undefined) return body;
  if (extra.protocol === protocol) return { ...extra.options, ...body };
  const dropped = unmappedFields(extra.options);
  if (dropped.length > 0)
    notes?.push(`not sent to ${protocolName[protocol]} (no equivalent there): ${dropped.join(', ')}`);
  return body;
}

/** Names, in `notes`, the message fields of another protocol's caller that an upstream of `protocol` loses. */
export function noteMessageOptions(request: ModelRequest, protocol: ApiProtocol, notes: string[]): void {
  const dropped = request.messages.flatMap((message, index) =>
    message.providerOptions && message.providerOptions.protocol !== protocol
      ? Object.keys(message.providerOptions.options).map((field) => `messages[${index}].${field}`)
      : [],
  );
  if (dropped.length > 0)
    notes.push(`not sent to ${protocolName[protocol]} (no equivalent there): ${dropped.join(', ')}`);
}

/**
 * Objects the parsers keep verbatim for their own protocol but also read into the neutral request: only
 * their sub-fields without a neutral form are lost elsewhere (`thinking.display`, `reasoning.context`).
 */
const PARTLY_NEUTRAL: Record<string, ReadonlySet<string>> = {
  thinking: new Set(['type', 'budget_tokens']),
  reasoning: new Set(['effort', 'summary']),
  output_config: new Set(['effort', 'format']),
  text: new Set(['verbosity', 'format']),
};

function unmappedFields(options: JsonRecord): string[] {
  return Object.entries(options).flatMap(([field, value]) => {
    const neutral = PARTLY_NEUTRAL[field];
    if (neutral === undefined) return [field];
    if (typeof value !== 'object' || value === null) return [];
    return Object.keys(value)
      .filter((key) => !neutral.has(key))
      .map((key) => `${field}.${key}`);
  });
}

const protocolName: Record<ApiProtocol, string> = {
  'anthropic-messages': 'Anthropic Messages',
  'openai-chat': 'OpenAI chat completions',
  'openai-responses': 'OpenAI Responses',
};

/** For upstreams without a JSON mode: the instruction that asks for JSON instead. */
export function jsonInstruction(request: ModelRequest): string | undefined {
  const format = request.responseFormat;
  if (format === undefined) return undefined;
  return format.schema === undefined
    ? 'Respond with a single JSON object and nothing else.'
    : `Respond with a single JSON object and nothing else. It must match this JSON Schema:\n${JSON.stringify(format.schema)}`;
}

/**
 * Whether a definition carries more than the neutral model keeps (`strict: true`, future fields), so that
 * upstreams of the same protocol get it verbatim. `strict: false` is the default the builders write.
 */
export function hasFieldsBeyond(value: unknown, neutral: string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(
    ([key, field]) => !neutral.includes(key) && !(key === 'strict' && field === false),
  );
}
