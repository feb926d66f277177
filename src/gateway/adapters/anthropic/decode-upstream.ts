import { badUpstreamBody } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/read.js';
import { identityToolNames } from '../../protocol/tool-names.js';
import type { ContentPart, DecodeContext, ModelResponse } from '../../protocol/types.js';
import { mergeUsage, emptyUsage } from '../shared/finish.js';
import { partsFromAnthropicContent } from './content.js';
import { finishReasonFromAnthropic } from './map-stop-reason.js';
import { usageFromAnthropic } from './usage.js';
import { throwIfErrorBody } from '../shared/error-in-body.js';

/** A non-streaming `/v1/messages` answer from an Anthropic upstream → neutral result. */
export function decodeAnthropicResponse(body: unknown, context: DecodeContext = {}): ModelResponse {
  throwIfErrorBody(body);
  if (!isRecord(body) || !Array.isArray(body.content))
    throw badUpstreamBody('expected an Anthropic message with content');
  const toolNames = context.toolNames ?? identityToolNames;
  let content: ContentPart[];
  try {
    // Server-tool blocks (web search and its results) become provider parts, passed on to Anthropic callers.
    content = partsFromAnthropicContent(body.content, 'content');
  } catch (error) {
    throw badUpstreamBody(error instanceof Error ? error.message : String(error));
  }
  content = content.map((part) =>
    part.type === 'tool-call' ? { ...part, name: toolNames.fromUpstream(part.name) } : part,
  );
  const response: ModelResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finishReason: finishReasonFromAnthropic(body.stop_reason),
    usage: mergeUsage(emptyUsage(), usageFromAnthropic(body.usage)),
  };
  if (typeof body.stop_sequence === 'string') response.stopSequence = body.stop_sequence;
  if (typeof body.stop_reason === 'string') {
    response.rawFinishReason = { protocol: 'anthropic-messages', value: body.stop_reason };
  }
  return response;
}
