import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Fake model upstreams on 127.0.0.1 for tests and the bench: an OpenAI-compatible server
 * (`/v1/chat/completions`) and an Anthropic server (`/v1/messages`). Each answers with deterministic
 * content chosen by a `reply` function, streams or not as asked, and can misbehave on purpose:
 * repeat tool-call indexes, split UTF-8 characters across chunks, end a stream early, answer 429/500,
 * or stall.
 */

export interface FakeToolCall {
  id: string;
  name: string;
  /** Arguments as JSON text; streamed in fragments of `argumentChunk` characters. */
  arguments: string;
}

export type FakeReply =
  | {
      kind: 'answer';
      text?: string;
      reasoning?: string;
      toolCalls?: FakeToolCall[];
      /** Defaults to tool calls → tool_calls/tool_use, else stop/end_turn. */
      finish?: string;
      inputTokens?: number;
      outputTokens?: number;
    }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Streams the answer, then destroys the socket after `afterEvents` SSE events. */
  | { kind: 'truncate'; afterEvents: number; reply: FakeReply & { kind: 'answer' } }
  /** Streams the answer, then goes silent after `afterEvents` SSE events, keeping the connection open. */
  | { kind: 'go-silent'; afterEvents: number; reply: FakeReply & { kind: 'answer' } }
  /** Exactly these bytes, whatever the protocol (for garbage answers). */
  | { kind: 'raw'; status: number; contentType: string; body: string }
  /** Accepts the request and never answers (for timeouts). */
  | { kind: 'stall' }
  /** Closes the connection without an answer (for retries). */
  | { kind: 'hang-up' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeLlmOptions {
  /** Chooses the reply for each request; defaults to a short text answer. */
  reply?: (request: RecordedRequest, index: number) => FakeReply;
  /** OpenAI only: give every tool-call chunk index 0 (some servers do); calls are told apart by id. */
  repeatToolIndex?: boolean;
  /** Write the stream in pieces of this many bytes (splits UTF-8 characters and events). */
  chunkBytes?: number;
  /** Characters per text delta. */
  textChunk?: number;
  argumentChunk?: number;
  /** Answer with one JSON body even when a stream was asked for (some servers do). */
  ignoreStream?: boolean;
  /** Stream even when one JSON body was asked for (some servers do). */
  alwaysStream?: boolean;
  /** Wait this long before answering (a model's time to first token). */
  firstByteDelayMs?: number;
  /** Pace stream events this far apart (a model's time per token). */
  eventIntervalMs?: number;
  /** Keep no record of requests (the bench). */
  record?: boolean;
}

export interface FakeLlm {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose connection closed before the fake answered (the gateway gave up on them). */
  disconnects(): number;
  /** When (performance.now()) the fake finished handing each answer to the kernel, in order. */
  finishedAt: number[];
  close(): Promise<void>;
}

/** Set on a count_tokens body so the shared request loop can hand it to the right answer. */
const countMarker = '__warren_fake_count_tokens';

export const defaultText = 'Hello from the fake upstream: héllo wörld 🦊 — done.';

function defaultReply(): FakeReply {
  return { kind: 'answer', text: defaultText };
}

export function chunksOf(text: string, size: number): string[] {
  const pieces: string[] = [];
  const characters = [...text];
  for (let index = 0; index < characters.length; index += size)
    pieces.push(characters.slice(index, index + size).join(''));
  return pieces;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Writes SSE events, optionally re-cut into fixed-size byte pieces, and can die after N events. */
export function createEventWriter(
  response: ServerResponse,
  options: FakeLlmOptions,
  dieAfter?: number,
  dieBy: 'cut' | 'silence' = 'cut',
) {
  let written = 0;
  let dead = false;
  const emit = (bytes: Buffer) => {
    if (dead) return;
    if (options.chunkBytes) {
      for (let offset = 0; offset < bytes.length; offset += options.chunkBytes) {
        response.write(bytes.subarray(offset, offset + options.chunkBytes));
      }
    } else response.write(bytes);
    written += 1;
    if (dieAfter !== undefined && written >= dieAfter) {
      dead = true;
      // Let the bytes go out, then cut the connection without a proper end (or just stop talking).
      if (dieBy === 'cut') setTimeout(() => response.socket?.destroy(), 20);
    }
  };
  // With an interval, events are paced like a model producing tokens; otherwise written at once.
  const queue: Buffer[] = [];
  return {
    write(event: string | undefined, data: unknown) {
      const frame = `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
      const bytes = Buffer.from(frame, 'utf8');
      if (options.eventIntervalMs) queue.push(bytes);
      else emit(bytes);
    },
    end() {
      if (!options.eventIntervalMs) {
        if (!dead) response.end();
        return;
      }
      const next = () => {
        const bytes = queue.shift();
        if (bytes === undefined || dead || response.destroyed) {
          if (!dead) response.end();
          return;
        }
        emit(bytes);
        setTimeout(next, options.eventIntervalMs);
      };
      next();
    },
  };
}

export function startStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
}

// ---------------------------------------------------------------- OpenAI chat completions

function openAiFinish(reply: FakeReply & { kind: 'answer' }): string {
  return reply.finish ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop');
}

function openAiUsage(reply: FakeReply & { kind: 'answer' }) {
  const prompt = reply.inputTokens ?? 11;
  const completion = reply.outputTokens ?? 7;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function answerOpenAi(
  response: ServerResponse,
  body: Record<string, unknown>,
  reply: FakeReply & { kind: 'answer' },
  options: FakeLlmOptions,
  dieAfter?: number,
  dieBy?: 'cut' | 'silence',
): void {
  const model = String(body.model);
  const id = 'chatcmpl-fake1';
  if (!body.stream) {
    const message: Record<string, unknown> = { role: 'assistant', content: reply.text ?? null };
    if (reply.reasoning) message.reasoning_content = reply.reasoning;
    if (reply.toolCalls?.length) {
      message.tool_calls = reply.toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, message, finish_reason: openAiFinish(reply), logprobs: null }],
        usage: openAiUsage(reply),
      }),
    );
    return;
  }
  startStream(response);
  const writer = createEventWriter(response, options, dieAfter, dieBy);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    writer.write(undefined, {
      id,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  chunk({ role: 'assistant', content: '' });
  for (const piece of chunksOf(reply.reasoning ?? '', options.textChunk ?? 8))
    chunk({ reasoning_content: piece });
  for (const piece of chunksOf(reply.text ?? '', options.textChunk ?? 8)) chunk({ content: piece });
  (reply.toolCalls ?? []).forEach((call, position) => {
    const index = options.repeatToolIndex ? 0 : position;
    if (options.repeatToolIndex) {
      // Such servers send each call whole, under the same index; only the id tells them apart.
      chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } },
        ],
      });
      return;
    }
    chunk({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    for (const piece of chunksOf(call.arguments, options.argumentChunk ?? 5)) {
      chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  chunk({}, openAiFinish(reply));
  const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
  if (streamOptions?.include_usage) {
    writer.write(undefined, {
      id,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [],
      usage: openAiUsage(reply),
    });
  }
  writer.write(undefined, '[DONE]');
  writer.end();
}

// ---------------------------------------------------------------- Anthropic messages

function anthropicStop(reply: FakeReply & { kind: 'answer' }): string {
  return reply.finish ?? (reply.toolCalls?.length ? 'tool_use' : 'end_turn');
}

function answerAnthropic(
  response: ServerResponse,
  body: Record<string, unknown>,
  reply: FakeReply & { kind: 'answer' },
  options: FakeLlmOptions,
  dieAfter?: number,
  dieBy?: 'cut' | 'silence',
): void {
  const model = String(body.model);
  const id = 'msg_fake1';
  const input = reply.inputTokens ?? 11;
  const output = reply.outputTokens ?? 7;
  if (!body.stream) {
    const content: unknown[] = [];
    if (reply.reasoning) content.push({ type: 'thinking', thinking: reply.reasoning, signature: 'sig-fake' });
    if (reply.text) content.push({ type: 'text', text: reply.text });
    for (const call of reply.toolCalls ?? []) {
      content.push({
        type: 'tool_use',
        id: call.id,
        name: call.name,
        input: JSON.parse(call.arguments || '{}'),
      });
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: anthropicStop(reply),
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: output },
      }),
    );
    return;
  }
  startStream(response);
  const writer = createEventWriter(response, options, dieAfter, dieBy);
  const event = (type: string, data: Record<string, unknown>) => writer.write(type, { type, ...data });
  event('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: 1 },
    },
  });
  let index = 0;
  if (reply.reasoning) {
    event('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } });
    for (const piece of chunksOf(reply.reasoning, options.textChunk ?? 8)) {
      event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
    }
    event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'sig-fake' } });
    event('content_block_stop', { index });
    index += 1;
  }
  if (reply.text) {
    event('content_block_start', { index, content_block: { type: 'text', text: '' } });
    event('ping', {});
    for (const piece of chunksOf(reply.text, options.textChunk ?? 8)) {
      event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
    }
    event('content_block_stop', { index });
    index += 1;
  }
  for (const call of reply.toolCalls ?? []) {
    event('content_block_start', {
      index,
      content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
    });
    for (const piece of chunksOf(call.arguments, options.argumentChunk ?? 5)) {
      event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    event('content_block_stop', { index });
    index += 1;
  }
  event('message_delta', {
    delta: { stop_reason: anthropicStop(reply), stop_sequence: null },
    usage: { output_tokens: output },
  });
  event('message_stop', {});
  writer.end();
}

// ---------------------------------------------------------------- servers

export type Answer = typeof answerOpenAi;

export async function startFake(paths: string[], answer: Answer, options: FakeLlmOptions): Promise<FakeLlm> {
  const requests: RecordedRequest[] = [];
  let count = 0;
  let disconnects = 0;
  const finishedAt: number[] = [];
  const server: Server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (request.method !== 'POST' || !paths.includes(path)) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: `fake upstream has no ${request.method} ${path}` } }));
      return;
    }
    response.on('finish', () => finishedAt.push(performance.now()));
    const body = await readJson(request);
    const recorded: RecordedRequest = { method: request.method, path, headers: request.headers, body };
    if (options.record !== false) requests.push(recorded);
    const reply = (options.reply ?? defaultReply)(recorded, count++);
    if (options.firstByteDelayMs)
      await new Promise((resolve) => setTimeout(resolve, options.firstByteDelayMs));
    switch (reply.kind) {
      case 'answer':
        answer(
          response,
          {
            ...body,
            ...(options.ignoreStream ? { stream: false } : {}),
            ...(options.alwaysStream ? { stream: true } : {}),
            ...(path.endsWith('/count_tokens') ? { [countMarker]: true } : {}),
          },
          reply,
          options,
        );
        return;
      case 'go-silent':
        answer(response, body, reply.reply, options, reply.afterEvents, 'silence');
        return;
      case 'raw':
        response.writeHead(reply.status, { 'content-type': reply.contentType });
        response.end(reply.body);
        return;
      case 'truncate':
        answer(
          response,
          options.alwaysStream ? { ...body, stream: true } : body,
          reply.reply,
          options,
          reply.afterEvents,
        );
        return;
      case 'status':
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(JSON.stringify(reply.body ?? { error: { message: `fake failure ${reply.status}` } }));
        return;
      case 'stall':
        response.on('close', () => disconnects++);
        return;
      case 'hang-up':
        request.socket.destroy();
        return;
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    disconnects: () => disconnects,
    finishedAt,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** OpenAI-compatible: POST /v1/chat/completions (and /chat/completions). Base URL for clients: `${url}/v1`. */
export function startFakeOpenAi(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  return startFake(['/v1/chat/completions', '/chat/completions'], answerOpenAi, options);
}

/**
 * Anthropic: POST /v1/messages, and /v1/messages/count_tokens answering 1,000 + the request's size
 * in bytes (so tests can tell an exact count from the gateway's estimate). Base URL for clients: `${url}`.
 */
export function startFakeAnthropic(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const answer: Answer = (response, body, reply, answerOptions, dieAfter, dieBy) => {
    if (body[countMarker]) {
      const { [countMarker]: _marker, ...sent } = body;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ input_tokens: 1000 + JSON.stringify(sent).length }));
      return;
    }
    answerAnthropic(response, body, reply, answerOptions, dieAfter, dieBy);
  };
  return startFake(['/v1/messages', '/v1/messages/count_tokens'], answer, options);
}
