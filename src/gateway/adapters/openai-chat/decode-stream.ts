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
import { emptyUsage, finishReasonWithToolCalls, mergeUsage } from '../shared/finish.js';
import { openAiStreamError } from '../shared/stream-error.js';
import { finishReasonFromOpenAi } from './map-finish-reason.js';
import { usageFromOpenAiChat } from './usage.js';

interface ToolState {
  id: string;
  name: string;
  started: boolean;
  /** Arguments that arrived before the name (some servers send them first). */
  pendingArguments: string;
}

/**
 * Chat completion chunks → neutral parts. Tool calls are matched by `id` first and by `index` only for
 * chunks without an id, because some servers (several OpenAI-compatible ones) give every parallel call
 * index 0. Text and reasoning blocks close when a tool call begins, so blocks come out one after another.
 * Usage may arrive in a trailing chunk after `finish_reason`; `finish` waits for `[DONE]` or the end.
 */
export function createOpenAiChatStreamDecoder(context: DecodeContext = {}): StreamDecoder {
  const toolNames = context.toolNames ?? identityToolNames;
  const tools: ToolState[] = [];
  const toolsById = new Map<string, ToolState>();
  const toolsByIndex = new Map<number, ToolState>();
  let started = false;
  let textId: string | undefined;
  let reasoningId: string | undefined;
  let blockCounter = 0;
  let usage: Usage = emptyUsage();
  let finishReason: FinishReason | undefined;
  let done = false;

  function closeText(parts: StreamPart[]): void {
    if (reasoningId !== undefined) parts.push({ type: 'reasoning-end', id: reasoningId });
    if (textId !== undefined) parts.push({ type: 'text-end', id: textId });
    reasoningId = undefined;
    textId = undefined;
  }

  function startTool(tool: ToolState, parts: StreamPart[]): void {
    tool.started = true;
    parts.push({ type: 'tool-input-start', id: tool.id, name: toolNames.fromUpstream(tool.name) });
    if (tool.pendingArguments !== '')
      parts.push({ type: 'tool-input-delta', id: tool.id, delta: tool.pendingArguments });
    tool.pendingArguments = '';
  }

  function toolDelta(call: JsonRecord, position: number, parts: StreamPart[]): void {
    const index = typeof call.index === 'number' ? call.index : position;
    const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
    let tool = id !== undefined ? toolsById.get(id) : toolsByIndex.get(index);
    if (!tool) {
      tool = { id: id ?? `call_${tools.length}`, name: '', started: false, pendingArguments: '' };
      tools.push(tool);
      toolsById.set(tool.id, tool);
    }
    toolsByIndex.set(index, tool);
    const fn = isRecord(call.function) ? call.function : {};
    if (tool.name === '' && typeof fn.name === 'string') tool.name = fn.name;
    if (!tool.started && tool.name !== '') startTool(tool, parts);
    const args =
      typeof fn.arguments === 'string'
        ? fn.arguments
        : isRecord(fn.arguments)
          ? JSON.stringify(fn.arguments)
          : '';
    if (args === '') return;
    if (tool.started) parts.push({ type: 'tool-input-delta', id: tool.id, delta: args });
    else tool.pendingArguments += args;
  }

  function finish(reason: FinishReason): StreamPart[] {
    const parts: StreamPart[] = [];
    closeText(parts);
    for (const tool of tools) {
      if (!tool.started) startTool(tool, parts);
      parts.push({ type: 'tool-input-end', id: tool.id });
    }
    done = true;
    parts.push({ type: 'finish', finishReason: finishReasonWithToolCalls(reason, tools.length > 0), usage });
    return parts;
  }

  function decodeChunk(chunk: JsonRecord): StreamPart[] {
    const parts: StreamPart[] = [];
    if (chunk.error !== undefined && chunk.error !== null) {
      done = true;
      return [openAiStreamError(chunk.error)];
    }
    if (!started) {
      started = true;
      parts.push({ type: 'stream-start', id: String(chunk.id ?? ''), model: String(chunk.model ?? '') });
    }
    if (isRecord(chunk.usage)) {
      const update = usageFromOpenAiChat(chunk.usage);
      usage = mergeUsage(usage, update);
      parts.push({ type: 'usage', usage: update });
    }
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return parts;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') {
      if (reasoningId === undefined) {
        reasoningId = `reasoning-${blockCounter++}`;
        parts.push({ type: 'reasoning-start', id: reasoningId });
      }
      parts.push({ type: 'reasoning-delta', id: reasoningId, delta: reasoning });
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (reasoningId !== undefined) parts.push({ type: 'reasoning-end', id: reasoningId });
      reasoningId = undefined;
      if (textId === undefined) {
        textId = `text-${blockCounter++}`;
        parts.push({ type: 'text-start', id: textId });
      }
      parts.push({ type: 'text-delta', id: textId, delta: delta.content });
    }
    if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) {
      closeText(parts);
      delta.tool_calls.forEach((call, position) => {
        if (isRecord(call)) toolDelta(call, position, parts);
      });
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      finishReason = finishReasonFromOpenAi(choice.finish_reason);
    }
    return parts;
  }

  return {
    decode(event: SseEvent): StreamPart[] {
      if (done) return [];
      if (event.data.trim() === '[DONE]') return finish(finishReason ?? 'stop');
      const chunk = parseJsonText(event.data);
      return isRecord(chunk) ? decodeChunk(chunk) : [];
    },
    end(): StreamPart[] {
      if (done) return [];
      if (finishReason !== undefined) return finish(finishReason);
      done = true;
      return [
        {
          type: 'error',
          status: 502,
          kind: 'upstream',
          message: 'upstream stream ended before finish_reason',
        },
      ];
    },
  };
}
