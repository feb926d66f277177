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

/** Writes a hook's own answer (binary body, e.g. a cached tarball) and records it in the flow. */
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
  response.writeHead(reply.status, reply.statusText, reply.headers.flat());
  response.end(flow.method === 'HEAD' ? undefined : reply.body);
  const capture = createBodyCapture(context.bodyCapBytes);
  capture.add(reply.body);
  recordAnswer(
    flow,
    { status: reply.status, statusText: reply.statusText, headers: reply.headers, body: '' },
    capture.result(),
  );
  emitFlow(context, flow);
}
