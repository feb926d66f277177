import { kindForStatus } from '../../protocol/errors.js';
import { generateId, nowInSeconds } from '../../protocol/ids.js';
import type { JsonRecord } from '../../protocol/read.js';
import { formatSseEvent } from '../../protocol/sse.js';
import type {
  EncodeContext,
  GatewayErrorKind,
  StreamEncoder,
  StreamPart,
  Usage,
} from '../../protocol/types.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { encodeOpenAiError } from './errors.js';
import { openAiFinishReason } from './map-finish-reason.js';
import { openAiChatUsage } from './usage.js';

/**
 * Neutral parts → chat completion chunks. Tool calls get indexes 0, 1, 2… in order of their start and carry
 * their id and name only in their first chunk, as OpenAI does. The usage chunk (empty `choices`) is sent
 * only when the caller asked for it with `stream_options.include_usage`.
 */
export function createOpenAiChatStreamEncoder(context: EncodeContext): StreamEncoder {
  const id = context.responseId ?? generateId('chatcmpl-');
  const created = context.createdAt ?? nowInSeconds();
  const toolIndexes = new Map<string, number>();
  let started = false;
  let closed = false;
  let usage: Usage = emptyUsage();

  function chunk(delta: JsonRecord, finishReason: string | null = null): string {
    return formatSseEvent(undefined, {
      id,
      object: 'chat.completion.chunk',
      created,
      model: context.request.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  function toolIndex(toolId: string): number {
    let index = toolIndexes.get(toolId);
    if (index === undefined) {
      index = toolIndexes.size;
      toolIndexes.set(toolId, index);
    }
    return index;
  }

  function encodePart(part: StreamPart): string {
    switch (part.type) {
      case 'stream-start':
      case 'text-start':
      case 'text-end':
      case 'reasoning-start':
      case 'reasoning-end':
      case 'tool-input-end':
      case 'provider-start':
      case 'provider-delta':
      case 'provider-end':
        return '';
      case 'text-delta':
        return part.delta === '' ? '' : chunk({ content: part.delta });
      case 'reasoning-delta':
        return part.delta === '' ? '' : chunk({ reasoning_content: part.delta });
      case 'tool-input-start':
        return chunk({
          tool_calls: [
            {
              index: toolIndex(part.id),
              id: part.id,
              type: 'function',
              function: { name: part.name, arguments: '' },
            },
          ],
        });
      case 'tool-input-delta':
        return part.delta === ''
          ? ''
          : chunk({ tool_calls: [{ index: toolIndex(part.id), function: { arguments: part.delta } }] });
      case 'usage':
        usage = mergeUsage(usage, part.usage);
        return '';
      case 'finish': {
        closed = true;
        usage = mergeUsage(usage, part.usage);
        const reason = finishReasonWithToolCalls(part.finishReason, toolIndexes.size > 0);
        let text = chunk({}, openAiFinishReason(reason));
        if (context.request.streamIncludeUsage) {
          text += formatSseEvent(undefined, {
            id,
            object: 'chat.completion.chunk',
            created,
            model: context.request.model,
            choices: [],
            usage: openAiChatUsage(usage),
          });
        }
        return text + formatSseEvent(undefined, '[DONE]');
      }
      case 'error':
        closed = true;
        return errorFrame(part.status ?? 502, part.message, part.kind);
    }
  }

  return {
    encode(part) {
      if (closed) return '';
      let prefix = '';
      if (!started && part.type !== 'error') {
        started = true;
        prefix = chunk({ role: 'assistant', content: '' });
      }
      return prefix + encodePart(part);
    },
    end() {
      if (closed) return '';
      closed = true;
      return errorFrame(502, 'upstream stream ended before the model finished its answer', 'upstream');
    },
  };
}

/** The OpenAI SDK throws an APIError for a data line whose object has an `error` field. */
function errorFrame(status: number, message: string, kind: GatewayErrorKind | undefined): string {
  return formatSseEvent(
    undefined,
    encodeOpenAiError({ status, message, kind: kind ?? kindForStatus(status) }).body,
  );
}
