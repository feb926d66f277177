import { kindForStatus } from '../../protocol/errors.js';
import { estimateTokens } from '../../protocol/estimate-tokens.js';
import { generateId } from '../../protocol/ids.js';
import type { JsonRecord } from '../../protocol/read.js';
import { formatSseEvent } from '../../protocol/sse.js';
import type { EncodeContext, StreamEncoder, StreamPart, Usage } from '../../protocol/types.js';
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { anthropicErrorType, anthropicStopReason } from './map-stop-reason.js';
import { anthropicUsage } from './usage.js';

interface Block {
  start: JsonRecord;
  /** Deltas waiting while another block is being streamed. */
  pending: JsonRecord[];
  ended: boolean;
  index?: number;
}

/**
 * Neutral parts → Anthropic Messages SSE. Anthropic clients expect blocks one after another: each
 * `content_block_start` is followed by its deltas and its `content_block_stop` before the next block
 * starts. Upstreams that interleave (parallel OpenAI tool calls streaming by index) are serialized here:
 * the first open block streams live, later ones are buffered and flushed in order when it stops.
 */
export function createAnthropicStreamEncoder(context: EncodeContext): StreamEncoder {
  const blocks = new Map<string, Block>();
  const queue: Block[] = [];
  let live: Block | undefined;
  let nextIndex = 0;
  let started = false;
  let closed = false;
  let emittedToolCall = false;
  let usage: Usage = emptyUsage();

  /**
   * Claude Code reads its context size from `message_start`; OpenAI-compatible upstreams report input
   * tokens only at the end (if at all), so an estimate stands in until then, and stays if none comes.
   */
  let estimatedInput: number | undefined;

  function messageStart(startUsage: Partial<Usage> | undefined, id?: string): string {
    if (started) return '';
    started = true;
    if (startUsage) usage = mergeUsage(usage, startUsage);
    if (!usage.inputTokens) {
      estimatedInput = estimateTokens(context.request);
      usage = { ...usage, inputTokens: estimatedInput };
    }
    const message = {
      id: context.responseId ?? (id?.startsWith('msg_') ? id : generateId('msg_')),
      type: 'message',
      role: 'assistant',
      model: context.request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...anthropicUsage(usage), output_tokens: usage.outputTokens },
    };
    return formatSseEvent('message_start', { type: 'message_start', message });
  }

  function emitStart(block: Block): string {
    block.index = nextIndex++;
    let text = formatSseEvent('content_block_start', {
      type: 'content_block_start',
      index: block.index,
      content_block: block.start,
    });
    for (const delta of block.pending) text += deltaFrame(block.index, delta);
    block.pending = [];
    if (block.ended) text += stopFrame(block.index);
    return text;
  }

  /** Makes queued blocks live in order until one is still open. */
  function promote(): string {
    let text = '';
    while (live === undefined && queue.length > 0) {
      const next = queue.shift() as Block;
      text += emitStart(next);
      if (!next.ended) live = next;
    }
    return text;
  }

  function open(key: string, start: JsonRecord): string {
    const block: Block = { start, pending: [], ended: false };
    blocks.set(key, block);
    queue.push(block);
    return promote();
  }

  function delta(key: string, payload: JsonRecord, startIfMissing: JsonRecord): string {
    let text = '';
    if (!blocks.has(key)) text += open(key, startIfMissing);
    const block = blocks.get(key) as Block;
    if (block.ended) return text;
    if (block === live && block.index !== undefined) return text + deltaFrame(block.index, payload);
    block.pending.push(payload);
    return text;
  }

  function stop(key: string, finalDelta?: JsonRecord): string {
    const block = blocks.get(key);
    if (!block || block.ended) return '';
    let text = '';
    if (finalDelta) text += delta(key, finalDelta, block.start);
    block.ended = true;
    if (block !== live || block.index === undefined) return text;
    live = undefined;
    return text + stopFrame(block.index) + promote();
  }

  function closeAll(): string {
    let text = '';
    for (const [key, block] of blocks) if (!block.ended) text += stop(key);
    return text + promote();
  }

  function encodePart(part: StreamPart): string {
    switch (part.type) {
      case 'stream-start':
        return messageStart(part.usage, part.id);
      case 'provider-start':
        return part.protocol === 'anthropic-messages' ? open(`provider:${part.id}`, part.data) : '';
      case 'provider-delta':
        // Anthropic citations arrive as deltas of a text block.
        if (blocks.has(`provider:${part.id}`)) return delta(`provider:${part.id}`, part.data, {});
        return blocks.has(`text:${part.id}`) ? delta(`text:${part.id}`, part.data, {}) : '';
      case 'provider-end':
        return stop(`provider:${part.id}`);
      case 'text-start':
        return open(`text:${part.id}`, { type: 'text', text: '' });
      case 'text-delta':
        return delta(`text:${part.id}`, { type: 'text_delta', text: part.delta }, { type: 'text', text: '' });
      case 'text-end':
        return stop(`text:${part.id}`);
      case 'reasoning-start':
        return open(
          `reasoning:${part.id}`,
          part.redactedData !== undefined
            ? { type: 'redacted_thinking', data: part.redactedData }
            : { type: 'thinking', thinking: '' },
        );
      case 'reasoning-delta':
        return delta(
          `reasoning:${part.id}`,
          { type: 'thinking_delta', thinking: part.delta },
          { type: 'thinking', thinking: '' },
        );
      case 'reasoning-end':
        return stop(
          `reasoning:${part.id}`,
          part.signature ? { type: 'signature_delta', signature: part.signature } : undefined,
        );
      case 'tool-input-start':
        emittedToolCall = true;
        return open(`tool:${part.id}`, { type: 'tool_use', id: part.id, name: part.name, input: {} });
      case 'tool-input-delta':
        return delta(
          `tool:${part.id}`,
          { type: 'input_json_delta', partial_json: part.delta },
          { type: 'tool_use', id: part.id, name: '', input: {} },
        );
      case 'tool-input-end':
        return stop(`tool:${part.id}`);
      case 'usage':
        usage = mergeUsage(usage, part.usage);
        return '';
      case 'finish': {
        closed = true;
        usage = mergeUsage(usage, part.usage);
        if (!usage.inputTokens && estimatedInput !== undefined)
          usage = { ...usage, inputTokens: estimatedInput };
        const reason = finishReasonWithToolCalls(part.finishReason, emittedToolCall);
        return (
          closeAll() +
          formatSseEvent('message_delta', {
            type: 'message_delta',
            delta: {
              stop_reason: anthropicStopReason(reason, part.stopSequence, part.rawFinishReason),
              stop_sequence: part.stopSequence ?? null,
            },
            usage: anthropicUsage(usage),
          }) +
          formatSseEvent('message_stop', { type: 'message_stop' })
        );
      }
      case 'error':
        closed = true;
        return errorFrame(part.message, part.kind ?? kindForStatus(part.status ?? 502));
    }
  }

  return {
    encode(part) {
      if (closed) return '';
      const prefix = part.type === 'stream-start' || part.type === 'error' ? '' : messageStart(undefined);
      return prefix + encodePart(part);
    },
    end() {
      if (closed) return '';
      closed = true;
      return errorFrame('upstream stream ended before the model finished its answer', 'upstream');
    },
  };
}

function deltaFrame(index: number, delta: JsonRecord): string {
  return formatSseEvent('content_block_delta', { type: 'content_block_delta', index, delta });
}

function stopFrame(index: number): string {
  return formatSseEvent('content_block_stop', { type: 'content_block_stop', index });
}

function errorFrame(message: string, kind: Parameters<typeof anthropicErrorType>[0]): string {
  return formatSseEvent('error', { type: 'error', error: { type: anthropicErrorType(kind), message } });
}
