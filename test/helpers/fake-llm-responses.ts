import type { ServerResponse } from 'node:http';
import {
  chunksOf,
  createEventWriter,
  startFake,
  startStream,
  type FakeLlm,
  type FakeLlmOptions,
  type FakeReply,
} from './fake-llm.js';

/**
 * A fake OpenAI Responses upstream (`POST /v1/responses`), for entries configured with
 * `warren: { api: openai-responses }`. Same replies and misbehaviours as the other fakes.
 */

type Answer = FakeReply & { kind: 'answer' };

function outputItems(reply: Answer) {
  const items: Record<string, unknown>[] = [];
  if (reply.text !== undefined) {
    items.push({
      type: 'message',
      id: 'msg_fake1',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: reply.text, annotations: [] }],
    });
  }
  for (const call of reply.toolCalls ?? []) {
    items.push({
      type: 'function_call',
      id: `fc_${call.id}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: 'completed',
    });
  }
  return items;
}

function fullResponse(model: string, reply: Answer, status: string, output: unknown[]) {
  const input = reply.inputTokens ?? 11;
  const outputTokens = reply.outputTokens ?? 7;
  return {
    id: 'resp_fake1',
    object: 'response',
    created_at: 1_700_000_000,
    status,
    model,
    output,
    usage:
      status === 'completed'
        ? {
            input_tokens: input,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: outputTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: input + outputTokens,
          }
        : null,
  };
}

function answerResponses(
  response: ServerResponse,
  body: Record<string, unknown>,
  reply: Answer,
  options: FakeLlmOptions,
  dieAfter?: number,
  dieBy?: 'cut' | 'silence',
): void {
  const model = String(body.model);
  if (!body.stream) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(fullResponse(model, reply, 'completed', outputItems(reply))));
    return;
  }
  startStream(response);
  const writer = createEventWriter(response, options, dieAfter, dieBy);
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>) =>
    writer.write(type, { type, sequence_number: sequence++, ...data });
  event('response.created', { response: fullResponse(model, reply, 'in_progress', []) });
  const items = outputItems(reply);
  items.forEach((item, outputIndex) => {
    if (item.type === 'message') {
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      });
      const part = { type: 'output_text', text: '', annotations: [] };
      event('response.content_part.added', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part,
      });
      for (const piece of chunksOf(reply.text ?? '', options.textChunk ?? 8)) {
        event('response.output_text.delta', {
          item_id: item.id,
          output_index: outputIndex,
          content_index: 0,
          delta: piece,
        });
      }
      event('response.output_text.done', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        text: reply.text,
      });
      event('response.content_part.done', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part: { ...part, text: reply.text },
      });
    } else {
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      for (const piece of chunksOf(String(item.arguments), options.argumentChunk ?? 5)) {
        event('response.function_call_arguments.delta', {
          item_id: item.id,
          output_index: outputIndex,
          delta: piece,
        });
      }
      event('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: outputIndex,
        arguments: item.arguments,
      });
    }
    event('response.output_item.done', { output_index: outputIndex, item });
  });
  event('response.completed', { response: fullResponse(model, reply, 'completed', items) });
  writer.end();
}

/** OpenAI Responses: POST /v1/responses (and /responses). Base URL for clients: `${url}/v1`. */
export function startFakeResponses(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  return startFake(['/v1/responses', '/responses'], answerResponses, options);
}
