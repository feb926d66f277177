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

/** The body with the caller's unread fields of the same protocol underneath the fields the builder set. */
export function withProviderOptions(
  body: JsonRecord,
  request: ModelRequest,
  protocol: ApiProtocol,
): JsonRecord {
  const extra = request.providerOptions;
  if (extra === undefined || extra.protocol !== protocol) return body;
  return { ...extra.options, ...body };
}

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
