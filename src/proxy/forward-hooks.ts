import { createReadStream } from 'node:fs';
import { answerRequest, refusalAnswer } from './answers.js';
import { failedHandling } from './client-errors.js';
import { forwardUpstream, type Forwarding } from './forward-upstream.js';
import { planForward, responseSinks, type HookDecision, type HookExchange } from './hooks.js';

/**
 * An allowed request with session hooks (download cache, secret swap; see hooks.ts): they may answer it
 * themselves, refuse it, or rewrite its headers before it goes upstream. A hook that fails refuses.
 */

export function forwardWithHooks(forwarding: Forwarding): void {
  const { context, request, response, recorder, destination } = forwarding;
  const hooks = context.session.hooks ?? [];
  const exchange: HookExchange = {
    sessionId: context.session.id,
    method: recorder.flow.method,
    url: recorder.flow.url,
    scheme: destination.scheme,
    host: destination.host,
    port: destination.port,
    path: destination.path,
    rawHeaders: request.rawHeaders,
  };
  const what = `${recorder.flow.method} ${recorder.flow.url}`;
  const refuse = (rule: string | undefined, reason: string): void => {
    const decision =
      rule === undefined
        ? { decision: 'deny' as const, reason }
        : { decision: 'deny' as const, rule, reason };
    recorder.decided(decision);
    answerRequest(recorder, request, response, refusalAnswer(what, decision, destination.host));
  };
  planForward(hooks, exchange)
    .then(
      (plan) => {
        if (recorder.finished) return; // the client's request failed while the hooks ran
        if (plan.kind === 'refuse') {
          refuse(plan.rule, plan.reason);
        } else if (plan.kind === 'answer') {
          request.resume();
          recorder.note(plan.note);
          sendHookAnswer(forwarding, plan);
        } else {
          if (plan.notes.length > 0) recorder.note(plan.notes.join('; '));
          const sinkOf = (status: number, rawHeaders: readonly string[]) =>
            responseSinks(hooks, { ...exchange, rawHeaders: plan.rawHeaders }, { status, rawHeaders });
          forwardUpstream(forwarding, plan.rawHeaders, sinkOf);
        }
      },
      (error: unknown) => refuse(undefined, `hooks failed (${String(error)})`),
    )
    .catch((error: unknown) => failedHandling(context, request.socket, response, error));
}

/**
 * Writes a hook's own answer and records it in the flow. A file body is streamed (a cached download may be
 * large); the flow keeps its first bodyCapBytes like any other.
 */
function sendHookAnswer(forwarding: Forwarding, reply: Extract<HookDecision, { kind: 'answer' }>): void {
  const { response, recorder } = forwarding;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const finish = (error?: string) => {
    recorder.answered(
      { status: reply.status, statusText: reply.statusText, headers: reply.headers, body: '' },
      recorder.responseBody.result(),
    );
    recorder.finish(error);
  };
  response.writeHead(reply.status, reply.statusText, reply.headers.flat());
  if (recorder.flow.method === 'HEAD') {
    response.end();
    finish();
    return;
  }
  if (Buffer.isBuffer(reply.body)) {
    recorder.responseBody.add(reply.body);
    response.end(reply.body);
    finish();
    return;
  }
  const stream = createReadStream(reply.body.file);
  stream.on('data', (chunk) => recorder.responseBody.add(chunk as Buffer));
  stream.on('error', (error) => {
    response.destroy();
    finish(`reading the cached file failed: ${error.message}`);
  });
  stream.on('end', () => finish());
  stream.pipe(response);
}
