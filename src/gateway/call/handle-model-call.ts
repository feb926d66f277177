import { setTimeout as sleep } from 'node:timers/promises';
import { sendError, sendJson } from '../answers.js';
import type { Caller } from '../keys.js';
import { GatewayError } from '../protocol/errors.js';
import type { GatewayErrorInfo } from '../protocol/types.js';
import type { Attempt, Deployment } from '../router.js';
import type { CallContext, CallDependencies } from './call-context.js';
import { countTokens } from './count-tokens.js';
import { tryDeployment, type ModelCall, type SentNotes } from './try-deployment.js';
import { upstreamHeaders } from './upstream-headers.js';
import { createUsageRecorder } from './usage-record.js';

export type { CallContext, CallDependencies } from './call-context.js';

function modelAllowed(caller: Caller, model: string): boolean {
  return caller.models === null || caller.models.includes(model);
}

/** Handles chat completions, responses, messages and count_tokens once the caller is known. */
export async function handleModelCall(dependencies: CallDependencies, context: CallContext): Promise<void> {
  const { route, response } = context;
  const callerAdapter = dependencies.adapterFor(route.protocol);
  const request = callerAdapter.parseRequest(context.body);
  const record = createUsageRecorder(dependencies, context, request);
  // Refusals are recorded too: usage is also the audit of who asked for what.
  const refuse = (error: GatewayError) => {
    if (route.endpoint !== 'count-tokens') record({ status: error.status, error: error.message });
    return error;
  };
  if (!modelAllowed(context.caller, request.model)) {
    throw refuse(
      new GatewayError({
        status: 403,
        kind: 'permission',
        message: `this key may not use model "${request.model}"; it may use: ${context.caller.models!.join(', ')}`,
      }),
    );
  }
  const attempts = dependencies.router.plan(request.model);
  if (attempts.length === 0) {
    const known = dependencies.router.modelNames();
    throw refuse(
      new GatewayError({
        status: 404,
        kind: 'not-found',
        message: `model "${request.model}" is not configured in this gateway${known.length ? `; configured: ${known.join(', ')}` : ''}`,
        param: 'model',
      }),
    );
  }
  const abort = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  if (route.endpoint === 'count-tokens') {
    const counted = await countTokens({
      request,
      deployment: attempts[0]?.deployment,
      adapter: (deployment) => dependencies.adapterFor(deployment.protocol),
      client: dependencies.client,
      headers: (deployment) => upstreamHeaders(context.request.headers, route.protocol, deployment, false),
      signal: abort.signal,
    });
    sendJson(response, 200, { input_tokens: counted.inputTokens });
    return;
  }
  const call: ModelCall = { dependencies, context, request, callerAdapter, signal: abort.signal, record };
  await runAttempts(call, attempts);
}

/** Tries the planned attempts in order until one answers the caller, then reports what the last one said. */
async function runAttempts(call: ModelCall, attempts: Attempt[]): Promise<void> {
  const { signal } = call;
  let lastError: GatewayErrorInfo = { status: 502, kind: 'upstream', message: 'no upstream was tried' };
  let tried = 0;
  let last: Deployment | undefined;
  let sent: SentNotes = { notes: [], identityClaims: [] };
  for (const attempt of attempts) {
    if (signal.aborted) break;
    if (attempt.delayMs > 0) await sleep(attempt.delayMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    last = attempt.deployment;
    tried += 1;
    const outcome = await tryDeployment(call, attempt.deployment, tried);
    if (outcome.kind === 'answered') return;
    lastError = outcome.error;
    sent = outcome.sent;
    if (outcome.kind === 'stop') break;
    call.dependencies.router.reportFailure(attempt.deployment);
  }
  const where = { upstream: last?.label ?? null, apiBase: last?.apiBase ?? null, attempts: tried, ...sent };
  if (signal.aborted) {
    call.record({ status: 499, ...where, error: 'client went away' });
    return;
  }
  const message = tried > 1 ? `${lastError.message} (after ${tried} attempts)` : lastError.message;
  const info = { ...lastError, message };
  sendError(call.context.response, call.callerAdapter, info);
  call.record({ status: info.status, ...where, error: message });
}
