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
import { openAiErrorType } from '../openai-chat/map-finish-reason.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { freeformInputText, freeformToolNames } from './freeform.js';
import {
  customToolCallItem,
  finishedResponseState,
  functionCallItem,
  messageItem,
  outputText,
  reasoningItem,
  responseObject,
  type ResponseObjectState,
} from './output-items.js';

interface Item {
  /** `custom`: a call to a free-form tool; its JSON `{"input": ...}` is buffered and sent as text at the end. */
  kind: 'text' | 'reasoning' | 'tool' | 'custom';
  itemId: string;
  outputIndex: number;
  text: string;
  callId: string;
  name: string;
  ended: boolean;
  encryptedContent?: string;
}

/**
 * Neutral parts → Responses SSE, the events Codex CLI reads: `response.created`, `response.output_item.added`
 * / `.done`, `response.output_text.delta`, `response.function_call_arguments.delta`, reasoning summary
 * deltas, and `response.completed` carrying the whole response with its usage. Every event has a
 * `sequence_number`; items may interleave because each event names its `output_index` and `item_id`.
 */
export function createResponsesStreamEncoder(context: EncodeContext): StreamEncoder {
  const items = new Map<string, Item>();
  const output: JsonRecord[] = [];
  const freeformNames = freeformToolNames(context.request);
  const state: ResponseObjectState = {
    id: context.responseId ?? generateId('resp_'),
    createdAt: context.createdAt ?? nowInSeconds(),
    status: 'in_progress',
    output: [],
    usage: null,
  };
  let sequence = 0;
  let started = false;
  let closed = false;
  let emittedToolCall = false;
  let usage: Usage = emptyUsage();

  function event(type: string, payload: JsonRecord): string {
    return formatSseEvent(type, { type, sequence_number: sequence++, ...payload });
  }

  function begin(): string {
    if (started) return '';
    started = true;
    const response = responseObject(context, state);
    return event('response.created', { response }) + event('response.in_progress', { response });
  }

  function open(key: string, kind: Item['kind'], callId = '', name = ''): string {
    const prefix = { text: 'msg_', reasoning: 'rs_', tool: 'fc_', custom: 'ctc_' }[kind];
    const item: Item = {
      kind,
      itemId: generateId(prefix),
      outputIndex: output.length,
      text: '',
      callId,
      name,
      ended: false,
    };
    items.set(key, item);
    output.push({});
    const location = { output_index: item.outputIndex };
    if (kind === 'text') {
      return (
        event('response.output_item.added', {
          ...location,
          item: messageItem(item.itemId, [], 'in_progress'),
        }) +
        event('response.content_part.added', {
          ...location,
          item_id: item.itemId,
          content_index: 0,
          part: outputText(''),
        })
      );
    }
    if (kind === 'reasoning')
      return event('response.output_item.added', {
        ...location,
        item: reasoningItem(item.itemId, '', undefined),
      });
    emittedToolCall = true;
    const added =
      kind === 'custom'
        ? customToolCallItem(item.itemId, callId, name, '', 'in_progress')
        : functionCallItem(item.itemId, callId, name, '', 'in_progress');
    return event('response.output_item.added', { ...location, item: added });
  }

  function append(key: string, kind: Item['kind'], delta: string): string {
    let text = '';
    if (!items.has(key)) text += open(key, kind);
    const item = items.get(key) as Item;
    if (item.ended || delta === '') return text;
    const location = { item_id: item.itemId, output_index: item.outputIndex };
    if (kind === 'reasoning' && item.text === '') {
      text += event('response.reasoning_summary_part.added', {
        ...location,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
    }
    item.text += delta;
    if (kind === 'custom') return text;
    if (kind === 'text')
      return (
        text + event('response.output_text.delta', { ...location, content_index: 0, delta, logprobs: [] })
      );
    if (kind === 'reasoning')
      return text + event('response.reasoning_summary_text.delta', { ...location, summary_index: 0, delta });
    return text + event('response.function_call_arguments.delta', { ...location, delta });
  }

  function close(key: string): string {
    const item = items.get(key);
    if (!item || item.ended) return '';
    item.ended = true;
    const location = { item_id: item.itemId, output_index: item.outputIndex };
    let text = '';
    let done: JsonRecord;
    if (item.kind === 'text') {
      text += event('response.output_text.done', {
        ...location,
        content_index: 0,
        text: item.text,
        logprobs: [],
      });
      text += event('response.content_part.done', {
        ...location,
        content_index: 0,
        part: outputText(item.text),
      });
      done = messageItem(item.itemId, [outputText(item.text)], 'completed');
    } else if (item.kind === 'reasoning') {
      if (item.text !== '') {
        text += event('response.reasoning_summary_text.done', {
          ...location,
          summary_index: 0,
          text: item.text,
        });
        text += event('response.reasoning_summary_part.done', {
          ...location,
          summary_index: 0,
          part: { type: 'summary_text', text: item.text },
        });
      }
      done = reasoningItem(item.itemId, item.text, item.encryptedContent);
    } else if (item.kind === 'custom') {
      const input = freeformInputText(item.text);
      if (input !== '') text += event('response.custom_tool_call_input.delta', { ...location, delta: input });
      text += event('response.custom_tool_call_input.done', { ...location, input });
      done = customToolCallItem(item.itemId, item.callId, item.name, input, 'completed');
    } else {
      text += event('response.function_call_arguments.done', { ...location, arguments: item.text || '{}' });
      done = functionCallItem(item.itemId, item.callId, item.name, item.text || '{}', 'completed');
    }
    output[item.outputIndex] = done;
    return text + event('response.output_item.done', { output_index: item.outputIndex, item: done });
  }

  function fail(message: string, kind: GatewayErrorKind): string {
    closed = true;
    const code = openAiErrorType(kind).code ?? 'server_error';
    const response = responseObject(context, {
      ...state,
      status: 'failed',
      output: output.filter((item) => item.type !== undefined),
      usage,
      error: { code, message },
    });
    return event('error', { code, message, param: null }) + event('response.failed', { response });
  }

  function encodePart(part: StreamPart): string {
    switch (part.type) {
      case 'stream-start':
      case 'text-start':
        return part.type === 'text-start' ? open(`text:${part.id}`, 'text') : '';
      case 'text-delta':
        return append(`text:${part.id}`, 'text', part.delta);
      case 'text-end':
        return close(`text:${part.id}`);
      case 'reasoning-start':
        return open(`reasoning:${part.id}`, 'reasoning');
      case 'reasoning-delta':
        return append(`reasoning:${part.id}`, 'reasoning', part.delta);
      case 'reasoning-end': {
        const item = items.get(`reasoning:${part.id}`);
        if (item && part.encryptedContent !== undefined) item.encryptedContent = part.encryptedContent;
        return close(`reasoning:${part.id}`);
      }
      case 'tool-input-start':
        return open(`tool:${part.id}`, freeformNames.has(part.name) ? 'custom' : 'tool', part.id, part.name);
      case 'tool-input-delta':
        return append(`tool:${part.id}`, items.get(`tool:${part.id}`)?.kind ?? 'tool', part.delta);
      case 'tool-input-end':
        return close(`tool:${part.id}`);
      case 'provider-start':
      case 'provider-delta':
      case 'provider-end':
        return '';
      case 'usage':
        usage = mergeUsage(usage, part.usage);
        return '';
      case 'finish': {
        let text = '';
        for (const key of items.keys()) text += close(key);
        closed = true;
        usage = mergeUsage(usage, part.usage);
        const finished = finishedResponseState(finishReasonWithToolCalls(part.finishReason, emittedToolCall));
        const response = responseObject(context, { ...state, ...finished, output, usage });
        const type = finished.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
        return text + event(type, { response });
      }
      case 'error':
        return fail(part.message, part.kind ?? kindForStatus(part.status ?? 502));
    }
  }

  return {
    encode(part) {
      if (closed) return '';
      return begin() + encodePart(part);
    },
    end() {
      if (closed) return '';
      return begin() + fail('upstream stream ended before the model finished its answer', 'upstream');
    },
  };
}
