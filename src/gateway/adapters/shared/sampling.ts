import { optionalNumber, type JsonRecord } from '../../protocol/read.js';
import type { ModelRequest } from '../../protocol/types.js';

/** `temperature` and `top_p`, spelled alike by all three protocols. */
export function readSampling(record: JsonRecord, request: ModelRequest): void {
  const temperature = optionalNumber(record.temperature, 'temperature');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(record.top_p, 'top_p');
  if (topP !== undefined) request.topP = topP;
}
