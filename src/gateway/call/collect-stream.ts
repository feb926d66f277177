import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../protocol/errors.js';
import { createSseParser } from '../protocol/sse.js';
import type { ContentPart, ModelResponse, StreamDecoder, StreamPart, Usage } from '../protocol/types.js';

/**
 * Some servers stream whatever was asked. When the caller wanted one JSON answer, the upstream's
 * stream is read to its end and folded into the response it stands for. An error part (or a stream
 * that breaks off) becomes a GatewayError, answered in the caller's shape.
 */
export async function collectStream(
  upstream: IncomingMessage,
  decoder: StreamDecoder,
  limit: number,
): Promise<ModelResponse> {
  const parser = createSseParser();
  const parts: StreamPart[] = [];
  let size = 0;
  try {
    for await (const chunk of upstream) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        upstream.destroy();
        throw new GatewayError({
          status: 502,
          kind: 'upstream',
          message: `upstream stream is larger than ${limit} bytes`,
        });
      }
      for (const event of parser.push(chunk as Buffer)) parts.push(...decoder.decode(event));
    }
    for (const event of parser.end()) parts.push(...decoder.decode(event));
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // Broken off: the decoder's end() reports what is missing.
  }
  parts.push(...decoder.end());
  return responseOfParts(parts);
}

/** Folds a complete neutral stream into the response it describes. */
export function responseOfParts(parts: StreamPart[]): ModelResponse {
  const response: ModelResponse = {
    id: '',
    model: '',
    content: [],
    finishReason: 'other',
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  let usage: Partial<Usage> = {};
  const open = new Map<string, ContentPart>();
  for (const part of parts) {
    switch (part.type) {
      case 'stream-start':
        response.id = part.id;
        response.model = part.model;
        usage = { ...usage, ...part.usage };
        break;
      case 'text-start':
        open.set(`text:${part.id}`, pushPart(response, { type: 'text', text: '' }));
        break;
      case 'text-delta': {
        const text = open.get(`text:${part.id}`);
        if (text?.type === 'text') text.text += part.delta;
        break;
      }
      case 'reasoning-start':
        open.set(
          `reasoning:${part.id}`,
          pushPart(response, {
            type: 'reasoning',
            text: '',
            ...(part.redactedData ? { redactedData: part.redactedData } : {}),
          }),
        );
        break;
      case 'reasoning-delta': {
        const reasoning = open.get(`reasoning:${part.id}`);
        if (reasoning?.type === 'reasoning') reasoning.text += part.delta;
        break;
      }
      case 'reasoning-end': {
        const reasoning = open.get(`reasoning:${part.id}`);
        if (reasoning?.type === 'reasoning') {
          if (part.signature) reasoning.signature = part.signature;
          if (part.encryptedContent) reasoning.encryptedContent = part.encryptedContent;
          if (part.itemId) reasoning.itemId = part.itemId;
        }
        break;
      }
      case 'tool-input-start':
        open.set(
          `tool:${part.id}`,
          pushPart(response, { type: 'tool-call', id: part.id, name: part.name, inputJson: '' }),
        );
        break;
      case 'tool-input-delta': {
        const call = open.get(`tool:${part.id}`);
        if (call?.type === 'tool-call') call.inputJson += part.delta;
        break;
      }
      case 'provider-start':
        open.set(
          `provider:${part.id}`,
          pushPart(response, { type: 'provider', protocol: part.protocol, data: { ...part.data } }),
        );
        break;
      case 'provider-delta': {
        const block = open.get(`provider:${part.id}`);
        if (block?.type === 'provider') Object.assign(block.data, part.data);
        break;
      }
      case 'usage':
        usage = { ...usage, ...part.usage };
        break;
      case 'finish':
        response.finishReason = part.finishReason;
        usage = { ...usage, ...part.usage };
        if (part.stopSequence) response.stopSequence = part.stopSequence;
        break;
      case 'error':
        throw new GatewayError({
          status: part.status ?? 502,
          message: part.message,
          ...(part.kind ? { kind: part.kind } : {}),
        });
      case 'text-end':
      case 'tool-input-end':
      case 'provider-end':
        break;
    }
  }
  response.usage = { ...usage, inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 };
  return response;
}

function pushPart(response: ModelResponse, part: ContentPart): ContentPart {
  response.content.push(part);
  return part;
}
