import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSseParser } from '../protocol/sse.js';
import type {
  GatewayErrorInfo,
  ModelResponse,
  StreamDecoder,
  StreamEncoder,
  StreamPart,
  Usage,
} from '../protocol/types.js';

export interface StreamRelay {
  /** An SSE answer to translate as it arrives, or the parts of an answer already read whole. */
  upstreamResponse: IncomingMessage | StreamPart[];
  response: ServerResponse;
  decoder: StreamDecoder;
  encoder: StreamEncoder;
  /** performance.now() when the caller's request arrived. */
  clock: number;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
}

export interface StreamOutcome {
  usage: Partial<Usage> | undefined;
  timeToFirstTokenMs: number | null;
  /** The message of an error part sent to the caller, if the stream ended in one. */
  error: string | null;
  /**
   * Set when the upstream failed before its first content: nothing was written to the caller, so
   * the call may go to another deployment, or be answered as a plain HTTP error.
   */
  failedBeforeFirstByte?: GatewayErrorInfo;
}

function isContent(part: StreamPart): boolean {
  return (
    part.type === 'text-delta' ||
    part.type === 'reasoning-delta' ||
    part.type === 'tool-input-start' ||
    part.type === 'tool-input-delta' ||
    part.type === 'provider-start'
  );
}

/** Larger than any real event (a long tool input or a base64 image arrives in many events). */
const maxEventBytes = 16 * 1024 * 1024;

const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Relays an upstream SSE stream to the caller as it arrives, translated part by part: bytes →
 * SSE events → neutral parts → the caller's events. Nothing is buffered beyond one network chunk;
 * when the caller reads slowly, the upstream is paused (back-pressure).
 *
 * Until the first content (or finish) arrives, the parts are held back and nothing is written:
 * an upstream that fails at that point (an in-stream "overloaded" error, a connection cut before
 * the first token) is reported in `failedBeforeFirstByte`, so the call can still be retried. Once
 * the caller has bytes, a stream that breaks off becomes an error event in its protocol (the
 * decoder's `end()` reports it).
 */
export async function relayStream(relay: StreamRelay): Promise<StreamOutcome> {
  const { response, decoder, encoder } = relay;
  const parser = createSseParser();
  const outcome: StreamOutcome = { usage: undefined, timeToFirstTokenMs: null, error: null };
  let committed = false;
  const held: StreamPart[] = [];
  let pending = '';

  const commit = () => {
    committed = true;
    response.writeHead(200, streamHeaders);
    for (const part of held) pending += encoder.encode(part);
    held.length = 0;
  };
  const take = (parts: StreamPart[]) => {
    for (const part of parts) {
      if (outcome.failedBeforeFirstByte) return;
      if (!committed && part.type === 'error') {
        outcome.failedBeforeFirstByte = {
          status: part.status ?? 502,
          message: part.message,
          ...(part.kind ? { kind: part.kind } : {}),
        };
        outcome.error = part.message;
        return;
      }
      if (outcome.timeToFirstTokenMs === null && isContent(part)) {
        outcome.timeToFirstTokenMs = performance.now() - relay.clock;
      }
      if (part.type === 'stream-start' && part.usage) outcome.usage = { ...outcome.usage, ...part.usage };
      else if (part.type === 'usage') outcome.usage = { ...outcome.usage, ...part.usage };
      else if (part.type === 'finish') outcome.usage = { ...outcome.usage, ...part.usage };
      else if (part.type === 'error') outcome.error = part.message;
      if (committed) pending += encoder.encode(part);
      else {
        held.push(part);
        if (isContent(part) || part.type === 'finish') commit();
      }
    }
  };
  const flush = async () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    if (!response.write(text)) await once(response, 'drain', { signal: relay.signal });
  };

  const upstream = relay.upstreamResponse;
  if (Array.isArray(upstream)) take(upstream);
  else {
    try {
      let bytesSinceEvent = 0;
      for await (const chunk of upstream) {
        const events = parser.push(chunk as Buffer);
        bytesSinceEvent = events.length > 0 ? 0 : bytesSinceEvent + (chunk as Buffer).length;
        // An upstream that never finishes an event would make the parser buffer without end.
        if (bytesSinceEvent > maxEventBytes)
          throw new Error(`upstream sent ${maxEventBytes} bytes without completing an event`);
        for (const event of events) take(decoder.decode(event));
        if (outcome.failedBeforeFirstByte) break;
        await flush();
      }
      if (!outcome.failedBeforeFirstByte) for (const event of parser.end()) take(decoder.decode(event));
    } catch {
      // The upstream broke off (reset, idle timeout) or the caller left; the decoder's end() says which part is missing.
    }
    if (relay.signal.aborted || outcome.failedBeforeFirstByte) upstream.destroy();
    if (relay.signal.aborted) {
      outcome.error = 'client went away';
      return outcome;
    }
    if (!outcome.failedBeforeFirstByte) take(decoder.end());
  }
  if (outcome.failedBeforeFirstByte) return outcome;
  if (!committed) commit();
  pending += encoder.end();
  response.end(pending);
  return outcome;
}

/**
 * Some OpenAI-compatible servers ignore `stream: true` and answer with one JSON body. The caller
 * asked for a stream, so the whole answer is replayed as the parts a stream would have carried.
 */
export function partsOfResponse(response: ModelResponse): StreamPart[] {
  const parts: StreamPart[] = [
    {
      type: 'stream-start',
      id: response.id,
      model: response.model,
      usage: { inputTokens: response.usage.inputTokens },
    },
  ];
  response.content.forEach((part, index) => {
    const id = `${index}`;
    switch (part.type) {
      case 'text':
        parts.push(
          { type: 'text-start', id },
          { type: 'text-delta', id, delta: part.text },
          { type: 'text-end', id },
        );
        return;
      case 'reasoning':
        parts.push(
          { type: 'reasoning-start', id, ...(part.redactedData ? { redactedData: part.redactedData } : {}) },
          ...(part.text ? [{ type: 'reasoning-delta' as const, id, delta: part.text }] : []),
          {
            type: 'reasoning-end',
            id,
            ...(part.signature ? { signature: part.signature } : {}),
            ...(part.encryptedContent ? { encryptedContent: part.encryptedContent } : {}),
            ...(part.itemId ? { itemId: part.itemId } : {}),
          },
        );
        return;
      case 'provider':
        parts.push(
          { type: 'provider-start', id, protocol: part.protocol, data: part.data },
          { type: 'provider-end', id },
        );
        return;
      case 'tool-call':
        parts.push(
          { type: 'tool-input-start', id: part.id, name: part.name },
          { type: 'tool-input-delta', id: part.id, delta: part.inputJson },
          { type: 'tool-input-end', id: part.id },
        );
        return;
      case 'image':
      case 'tool-result':
        return;
    }
  });
  parts.push({
    type: 'finish',
    finishReason: response.finishReason,
    usage: response.usage,
    ...(response.stopSequence ? { stopSequence: response.stopSequence } : {}),
  });
  return parts;
}
