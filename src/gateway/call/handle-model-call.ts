import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Caller } from './keys.js';
import { authHeaders } from './providers.js';
import { isRetryableStatus, UpstreamFailure, type UpstreamClient } from './providers-client.js';
import { GatewayError, toErrorInfo } from './protocol/errors.js';
import { rewriteIdentity } from './protocol/identity.js';
import type {
  ApiProtocol,
  GatewayErrorInfo,
  ModelRequest,
  ModelResponse,
  ProtocolAdapter,
  Usage,
  UpstreamRequest,
} from './protocol/types.js';
import type { Deployment, Router } from './router.js';
import { readUpstreamBody, sendError, sendJson, tryParseJson, type Route } from './server-io.js';
import { collectStream } from './routes-collect.js';
import { countTokens } from './routes-count.js';
import { partsOfResponse, relayStream, type StreamOutcome } from './routes-stream.js';
import type { UsageRecord, UsageSink } from './usage.js';

/** What one model call needs from the gateway that runs it. */
export interface CallDependencies {
  router: Router;
  client: UpstreamClient;
  adapterFor(protocol: ApiProtocol): ProtocolAdapter;
  usage: UsageSink | undefined;
  maxUpstreamBodyBytes: number;
}

export interface CallContext {
  request: IncomingMessage;
  response: ServerResponse;
  route: Route;
  caller: Caller;
  sessionId: string | null;
  body: unknown;
  startedAt: number;
  /** performance.now() when the request arrived. */
  clock: number;
}

/** Claude identity lines are rewritten only in requests whose prompt came from an Anthropic- or Responses-shaped agent. */
function upstreamModelRequest(
  request: ModelRequest,
  protocol: ApiProtocol,
  deployment: Deployment,
): ModelRequest {
  if (deployment.provider.isAnthropic || protocol === 'openai-chat') return request;
  return rewriteIdentity(request, deployment.upstreamModel, deployment.entry.identity);
}

function upstreamHeaders(
  context: CallContext,
  deployment: Deployment,
  stream: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'warren-gateway',
    ...authHeaders(deployment.provider, deployment.apiKey),
  };
  if (deployment.protocol === 'anthropic-messages') {
    const incoming = context.request.headers;
    const fromAnthropicCaller = context.route.protocol === 'anthropic-messages';
    headers['anthropic-version'] =
      (fromAnthropicCaller &&
        typeof incoming['anthropic-version'] === 'string' &&
        incoming['anthropic-version']) ||
      '2023-06-01';
    // Betas (prompt caching, long context, …) only make sense between two Anthropic ends.
    const beta = incoming['anthropic-beta'];
    if (fromAnthropicCaller && typeof beta === 'string') headers['anthropic-beta'] = beta;
  }
  return { ...headers, ...deployment.entry.headers };
}

/** An answer without a content type is taken for what was asked. */
function isEventStream(response: IncomingMessage, asked: boolean): boolean {
  const type = response.headers['content-type'];
  return type === undefined ? asked : type.includes('text/event-stream');
}

function modelAllowed(caller: Caller, model: string): boolean {
  return caller.models === null || caller.models.includes(model);
}

function usageTotals(usage: Partial<Usage> | undefined) {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cacheReadTokens: usage?.cacheRead ?? 0,
    cacheWriteTokens: usage?.cacheWrite ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
  };
}

/** Handles chat completions, responses, messages and count_tokens once the caller is known. */
export async function handleModelCall(dependencies: CallDependencies, context: CallContext): Promise<void> {
  const { route, response } = context;
  const callerAdapter = dependencies.adapterFor(route.protocol);
  const modelRequest = callerAdapter.parseRequest(context.body);
  const record = (fields: Partial<UsageRecord> & Pick<UsageRecord, 'status'>) =>
    dependencies.usage?.record({
      startedAt: context.startedAt,
      sessionId: context.sessionId,
      tokenId: context.caller.tokenId,
      caller: context.caller.kind,
      protocol: route.protocol,
      endpoint: route.endpoint,
      model: modelRequest.model,
      upstream: null,
      apiBase: null,
      stream: modelRequest.stream,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      latencyMs: performance.now() - context.clock,
      timeToFirstTokenMs: null,
      attempts: 0,
      error: null,
      ...fields,
    });
  // Refusals are recorded too: usage is also the audit of who asked for what.
  const refuse = (error: GatewayError) => {
    if (route.endpoint !== 'count-tokens') record({ status: error.status, error: error.message });
    return error;
  };
  if (!modelAllowed(context.caller, modelRequest.model)) {
    throw refuse(
      new GatewayError({
        status: 403,
        kind: 'permission',
        message: `this key may not use model "${modelRequest.model}"; it may use: ${context.caller.models!.join(', ')}`,
      }),
    );
  }
  const attempts = dependencies.router.plan(modelRequest.model);
  if (attempts.length === 0) {
    const known = dependencies.router.modelNames();
    throw refuse(
      new GatewayError({
        status: 404,
        kind: 'not-found',
        message: `model "${modelRequest.model}" is not configured in this gateway${known.length ? `; configured: ${known.join(', ')}` : ''}`,
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
      request: modelRequest,
      deployment: attempts[0]?.deployment,
      adapter: (deployment) => dependencies.adapterFor(deployment.protocol),
      client: dependencies.client,
      headers: (deployment) => upstreamHeaders(context, deployment, false),
      signal: abort.signal,
    });
    sendJson(response, 200, { input_tokens: counted.inputTokens });
    return;
  }
  let lastError: GatewayErrorInfo = { status: 502, kind: 'upstream', message: 'no upstream was tried' };
  let tried = 0;
  let last: Deployment | undefined;
  for (const attempt of attempts) {
    if (abort.signal.aborted) break;
    if (attempt.delayMs > 0)
      await sleep(attempt.delayMs, undefined, { signal: abort.signal }).catch(() => undefined);
    if (abort.signal.aborted) break;
    const deployment = attempt.deployment;
    last = deployment;
    tried += 1;
    const upstreamAdapter = dependencies.adapterFor(deployment.protocol);
    const upstream: UpstreamRequest = upstreamAdapter.buildUpstreamRequest(
      upstreamModelRequest(modelRequest, route.protocol, deployment),
      deployment.upstreamModel,
    );
    let upstreamResponse: IncomingMessage;
    try {
      upstreamResponse = await dependencies.client.send({
        url: new URL(deployment.apiBase + upstream.path),
        headers: upstreamHeaders(context, deployment, modelRequest.stream),
        body: JSON.stringify(upstream.body),
        firstByteTimeoutMs: deployment.entry.firstByteTimeoutMs,
        idleTimeoutMs: deployment.entry.timeoutMs,
        signal: abort.signal,
      });
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      lastError = error.info;
      if (!error.retryable) break;
      dependencies.router.reportFailure(deployment);
      continue;
    }
    const status = upstreamResponse.statusCode ?? 502;
    if (status >= 400) {
      const text = await readUpstreamBody(upstreamResponse, dependencies.maxUpstreamBodyBytes).catch(
        () => '',
      );
      lastError = upstreamAdapter.decodeUpstreamError(status, tryParseJson(text));
      if (isRetryableStatus(status)) {
        dependencies.router.reportFailure(deployment);
        continue;
      }
      break;
    }
    dependencies.router.reportSuccess(deployment);
    const where = { upstream: deployment.label, apiBase: deployment.apiBase, attempts: tried };
    try {
      const streamed = isEventStream(upstreamResponse, modelRequest.stream);
      const decodeContext = { toolNames: upstream.toolNames };
      let decoded: ModelResponse | undefined;
      if (!modelRequest.stream && streamed) {
        decoded = await collectStream(
          upstreamResponse,
          upstreamAdapter.createStreamDecoder(decodeContext),
          dependencies.maxUpstreamBodyBytes,
        );
      } else if (!streamed) {
        const text = await readUpstreamBody(upstreamResponse, dependencies.maxUpstreamBodyBytes);
        decoded = upstreamAdapter.decodeUpstreamResponse(tryParseJson(text), decodeContext);
      }
      if (!modelRequest.stream) {
        sendJson(response, 200, callerAdapter.encodeResponse(decoded!, { request: modelRequest }));
        record({ status: 200, ...where, ...usageTotals(decoded!.usage) });
        return;
      }
      const outcome: StreamOutcome = await relayStream({
        upstreamResponse: decoded ? partsOfResponse(decoded) : upstreamResponse,
        response,
        decoder: upstreamAdapter.createStreamDecoder({ toolNames: upstream.toolNames }),
        encoder: callerAdapter.createStreamEncoder({ request: modelRequest }),
        clock: context.clock,
        signal: abort.signal,
      });
      if (outcome.failedBeforeFirstByte) {
        lastError = outcome.failedBeforeFirstByte;
        if (isRetryableStatus(lastError.status) && !abort.signal.aborted) {
          dependencies.router.reportFailure(deployment);
          continue;
        }
        break;
      }
      record({
        status: 200,
        ...where,
        ...usageTotals(outcome.usage),
        timeToFirstTokenMs: outcome.timeToFirstTokenMs,
        error: outcome.error,
      });
    } catch (error) {
      // An answer that could not be read or translated: nothing reached the caller yet, so say so in its shape.
      const info = toErrorInfo(error);
      answerFailure(response, callerAdapter, error);
      record({ status: info.status, ...where, error: info.message });
    }
    return;
  }

  if (abort.signal.aborted) {
    record({
      status: 499,
      upstream: last?.label ?? null,
      apiBase: last?.apiBase ?? null,
      attempts: tried,
      error: 'client went away',
    });
    return;
  }
  const message = tried > 1 ? `${lastError.message} (after ${tried} attempts)` : lastError.message;
  const info = { ...lastError, message };
  sendError(response, callerAdapter, info);
  record({
    status: info.status,
    upstream: last?.label ?? null,
    apiBase: last?.apiBase ?? null,
    attempts: tried,
    error: message,
  });
}

/** For failures before any upstream was chosen (bad JSON, unknown model): the caller's shape, no usage row. */
export function answerFailure(response: ServerResponse, adapter: ProtocolAdapter, error: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  sendError(response, adapter, toErrorInfo(error));
}
