import { kindForStatus, statusForKind } from '../../protocol/errors.js';
import { isRecord, parseJsonText, type JsonRecord } from '../../protocol/read.js';
import { identityToolNames } from '../../protocol/tool-names.js';
import type {
  DecodeContext,
  FinishReason,
  SseEvent,
  StreamDecoder,
  StreamPart,
  Usage,
} from '../../protocol/types.js';
import { emptyUsage, mergeUsage } from '../shared/finish.js';
import { finishReasonFromAnthropic, kindFromAnthropicErrorType } from './map-stop-reason.js';
import { usageFromAnthropic } from './usage.js';

interface OpenBlock {
  /** `provider`: a block with no neutral form (server tools), relayed verbatim to Anthropic callers. */
  kind: 'text' | 'reasoning' | 'tool' | 'provider';
  id: string;
  sawDelta: boolean;
  /** Some proxies put a tool's whole input in `content_block_start` and send no deltas. */
  startInput?: string;
  signature?: string;
}

/**
 * Anthropic Messages SSE → neutral parts. Keys on `data.type` (the `event:` line is optional in practice),
 * follows blocks by `index`, and reports a stream that stops before `message_stop` as an error.
 */
export function createAnthropicStreamDecoder(context: DecodeContext = {}): StreamDecoder {
  const toolNames = context.toolNames ?? identityToolNames;
  const blocks = new Map<number, OpenBlock>();
  let usage: Usage = emptyUsage();
  let finishReason: FinishReason | undefined;
  let stopSequence: string | undefined;
  let rawStopReason: string | undefined;
  let done = false;

  function closeBlock(index: number, parts: StreamPart[]): void {
    const block = blocks.get(index);
    if (!block) return;
    blocks.delete(index);
    switch (block.kind) {
      case 'text':
        parts.push({ type: 'text-end', id: block.id });
        break;
      case 'reasoning':
        parts.push(
          block.signature === undefined
            ? { type: 'reasoning-end', id: block.id }
            : { type: 'reasoning-end', id: block.id, signature: block.signature },
        );
        break;
      case 'tool':
        if (!block.sawDelta && block.startInput !== undefined)
          parts.push({ type: 'tool-input-delta', id: block.id, delta: block.startInput });
        parts.push({ type: 'tool-input-end', id: block.id });
        break;
      case 'provider':
        parts.push({ type: 'provider-end', id: block.id });
        break;
    }
  }

  function finish(parts: StreamPart[]): StreamPart[] {
    for (const index of [...blocks.keys()]) closeBlock(index, parts);
    done = true;
    const part: StreamPart = { type: 'finish', finishReason: finishReason ?? 'other', usage };
    if (stopSequence !== undefined) part.stopSequence = stopSequence;
    if (rawStopReason !== undefined)
      part.rawFinishReason = { protocol: 'anthropic-messages', value: rawStopReason };
    parts.push(part);
    return parts;
  }

  function startBlock(index: number, block: JsonRecord, parts: StreamPart[]): void {
    switch (block.type) {
      case 'text': {
        const id = `text-${index}`;
        blocks.set(index, { kind: 'text', id, sawDelta: false });
        parts.push({ type: 'text-start', id });
        if (typeof block.text === 'string' && block.text !== '')
          parts.push({ type: 'text-delta', id, delta: block.text });
        return;
      }
      case 'thinking': {
        const id = `reasoning-${index}`;
        blocks.set(index, { kind: 'reasoning', id, sawDelta: false });
        parts.push({ type: 'reasoning-start', id });
        if (typeof block.thinking === 'string' && block.thinking !== '')
          parts.push({ type: 'reasoning-delta', id, delta: block.thinking });
        return;
      }
      case 'redacted_thinking': {
        const id = `reasoning-${index}`;
        blocks.set(index, { kind: 'reasoning', id, sawDelta: false });
        parts.push({
          type: 'reasoning-start',
          id,
          redactedData: typeof block.data === 'string' ? block.data : '',
        });
        return;
      }
      case 'tool_use': {
        const id = typeof block.id === 'string' ? block.id : `toolu_${index}`;
        const open: OpenBlock = { kind: 'tool', id, sawDelta: false };
        if (isRecord(block.input) && Object.keys(block.input).length > 0)
          open.startInput = JSON.stringify(block.input);
        blocks.set(index, open);
        parts.push({ type: 'tool-input-start', id, name: toolNames.fromUpstream(String(block.name ?? '')) });
        return;
      }
      default: {
        const id = `provider-${index}`;
        blocks.set(index, { kind: 'provider', id, sawDelta: false });
        parts.push({ type: 'provider-start', id, protocol: 'anthropic-messages', data: block });
      }
    }
  }

  function applyDelta(block: OpenBlock | undefined, delta: JsonRecord, parts: StreamPart[]): void {
    if (!block) return;
    if (block.kind === 'provider' || (block.kind === 'text' && delta.type === 'citations_delta')) {
      parts.push({ type: 'provider-delta', id: block.id, data: delta });
    } else if (delta.type === 'text_delta' && block.kind === 'text' && typeof delta.text === 'string') {
      parts.push({ type: 'text-delta', id: block.id, delta: delta.text });
    } else if (
      delta.type === 'thinking_delta' &&
      block.kind === 'reasoning' &&
      typeof delta.thinking === 'string'
    ) {
      parts.push({ type: 'reasoning-delta', id: block.id, delta: delta.thinking });
    } else if (delta.type === 'signature_delta' && typeof delta.signature === 'string') {
      block.signature = (block.signature ?? '') + delta.signature;
    } else if (
      delta.type === 'input_json_delta' &&
      block.kind === 'tool' &&
      typeof delta.partial_json === 'string'
    ) {
      if (delta.partial_json === '') return;
      block.sawDelta = true;
      parts.push({ type: 'tool-input-delta', id: block.id, delta: delta.partial_json });
    }
  }

  return {
    decode(event: SseEvent): StreamPart[] {
      if (done) return [];
      const data = parseJsonText(event.data);
      if (!isRecord(data)) return [];
      const parts: StreamPart[] = [];
      const index = typeof data.index === 'number' ? data.index : 0;
      switch (data.type) {
        case 'message_start': {
          const message = isRecord(data.message) ? data.message : {};
          const startUsage = usageFromAnthropic(message.usage);
          usage = mergeUsage(usage, startUsage);
          parts.push({
            type: 'stream-start',
            id: typeof message.id === 'string' ? message.id : '',
            model: typeof message.model === 'string' ? message.model : '',
            usage: startUsage,
          });
          break;
        }
        case 'content_block_start':
          closeBlock(index, parts);
          if (isRecord(data.content_block)) startBlock(index, data.content_block, parts);
          break;
        case 'content_block_delta':
          if (isRecord(data.delta)) applyDelta(blocks.get(index), data.delta, parts);
          break;
        case 'content_block_stop':
          closeBlock(index, parts);
          break;
        case 'message_delta': {
          const delta = isRecord(data.delta) ? data.delta : {};
          if (delta.stop_reason !== undefined && delta.stop_reason !== null) {
            finishReason = finishReasonFromAnthropic(delta.stop_reason);
            if (typeof delta.stop_reason === 'string') rawStopReason = delta.stop_reason;
          }
          if (typeof delta.stop_sequence === 'string') stopSequence = delta.stop_sequence;
          const update = usageFromAnthropic(data.usage);
          // message_delta may carry output only; keep the input known from message_start.
          if (
            update.inputTokens !== undefined &&
            update.cacheRead === undefined &&
            update.cacheWrite === undefined
          ) {
            update.inputTokens += (usage.cacheRead ?? 0) + (usage.cacheWrite ?? 0);
          }
          usage = mergeUsage(usage, update);
          parts.push({ type: 'usage', usage: update });
          break;
        }
        case 'message_stop':
          return finish(parts);
        case 'error': {
          done = true;
          const error = isRecord(data.error) ? data.error : {};
          const kind = kindFromAnthropicErrorType(error.type) ?? 'upstream';
          const status = statusForKind(kind);
          parts.push({
            type: 'error',
            status,
            kind: kind ?? kindForStatus(status),
            message: typeof error.message === 'string' ? error.message : 'upstream stream error',
          });
          break;
        }
        default:
          // ping and future event types carry nothing for the neutral stream.
          break;
      }
      return parts;
    },
    end(): StreamPart[] {
      if (done) return [];
      // Without message_stop but with a stop reason the answer is complete; without one it was cut off.
      if (finishReason !== undefined) return finish([]);
      done = true;
      return [
        {
          type: 'error',
          status: 502,
          kind: 'upstream',
          message: 'upstream stream ended before message_stop',
        },
      ];
    },
  };
}
