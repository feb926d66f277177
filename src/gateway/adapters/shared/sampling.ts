import { invalidRequest } from '../../protocol/errors.js';
import { optionalNumber, optionalString, type JsonRecord } from '../../protocol/read.js';
import type { ModelRequest, ReasoningOptions } from '../../protocol/types.js';

/** `temperature` and `top_p`, spelled alike by all three protocols. */
export function readSampling(record: JsonRecord, request: ModelRequest): void {
  const temperature = optionalNumber(record.temperature, 'temperature');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(record.top_p, 'top_p');
  if (topP !== undefined) request.topP = topP;
}

const EFFORTS: ReadonlySet<string> = new Set(['minimal', 'low', 'medium', 'high']);

/** OpenAI's reasoning effort (chat `reasoning_effort`, Responses `reasoning.effort`); absent stays absent. */
export function parseEffort(value: unknown, path: string): ReasoningOptions['effort'] {
  const effort = optionalString(value, path);
  if (effort !== undefined && !EFFORTS.has(effort))
    throw invalidRequest(path, 'expected "minimal", "low", "medium" or "high"');
  return effort as ReasoningOptions['effort'];
}
