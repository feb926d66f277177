import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createBodyCapture } from './capture.js';
import type { ListenerContext } from './context.js';
import { emitFlow, recordAnswer } from './exchange.js';
import type { FlowRecord } from './flow.js';
import type { HookDecision, HookExchange } from './hooks.js';
import type { Destination } from './target.js';

/** Glue between forward.ts and the session hooks, kept here so forward.ts changes by a few lines only. */

export function hookExchangeOf(
  context: ListenerContext,
  flow: FlowRecord,
  destination: Destination,
  rawHeaders: readonly string[],
): HookExchange {
  return {
    sessionId: context.session.id,
    method: flow.method,
    url: flow.url,
    scheme: destination.scheme,
    host: destination.host,
    port: destination.port,
    path: destination.path,
    rawHeaders,
  };
}

/**
 * Writes a hook's own answer and records it in the flow. A file body is streamed (a cached download may be
 * large); the flow keeps its first bodyCapBytes like any other.
 */
export function sendHookAnswer(
  context: ListenerContext,
  response: ServerResponse,
  flow: FlowRecord,
  reply: Extract<HookDecision, { kind: 'answer' }>,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const capture = createBodyCapture(context.bodyCapBytes);
  const finish = (error?: string) => {
    recordAnswer(
      flow,
      { status: reply.status, statusText: reply.statusText, headers: reply.headers, body: '' },
      capture.result(),
    );
    if (error !== undefined) flow.error = error;
    emitFlow(context, flow);
  };
  response.writeHead(reply.status, reply.statusText, reply.headers.flat());
  if (flow.method === 'HEAD') {
    response.end();
    finish();
    return;
  }
  if (Buffer.isBuffer(reply.body)) {
    capture.add(reply.body);
    response.end(reply.body);
    finish();
    return;
  }
  const stream = createReadStream(reply.body.file);
  stream.on('data', (chunk) => capture.add(chunk as Buffer));
  stream.on('error', (error) => {
    response.destroy();
    finish(
      `reading ${reply.body instanceof Buffer ? 'the body' : 'the cached file'} failed: ${error.message}`,
    );
  });
  stream.on('end', () => finish());
  stream.pipe(response);
}
