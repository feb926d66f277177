import type { IncomingMessage } from 'node:http';
import { answerFailure, sendJson } from '../answers.js';
import { readUpstreamBody, tryParseJson } from '../bodies.js';
import { toErrorInfo } from '../protocol/errors.js';
import { rewriteIdentity } from '../protocol/identity.js';
import type {
  ApiProtocol,
  GatewayErrorInfo,
  ModelRequest,
  ModelResponse,
  ProtocolAdapter,
} from '../protocol/types.js';
import type { Deployment } from '../router.js';
import { isRetryableStatus, UpstreamFailure } from '../upstream-client.js';
import type { CallContext, CallDependencies } from './call-context.js';
import { collectStream } from './collect-stream.js';
import { partsOfResponse, relayStream } from './relay-stream.js';
import { upstreamHeaders } from './upstream-headers.js';
import { usageTotals, type UsageOutcome } from './usage-record.js';

/** What one attempt at one deployment came to. */
export type AttemptOutcome =
  /** The caller has its answer (or an error event after its answer began); the usage row is written. */
  | { kind: 'answered' }
  /** Nothing reached the caller, and another deployment (or this one, later) may do better. */
  | { kind: 'retry'; error: GatewayErrorInfo }
  /** Nothing reached the caller, and no other attempt would change that (a 4xx, the caller left). */
  | { kind: 'stop'; error: GatewayErrorInfo };

/** One model call in progress: the caller's request, parsed, and how to answer and record it. */
export interface ModelCall {
  dependencies: CallDependencies;
  context: CallContext;
  request: ModelRequest;
  callerAdapter: ProtocolAdapter;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
  record(outcome: UsageOutcome): void;
}

/**
 * The retry policy, in one place: a failure before the caller got a byte goes to the next attempt
 * when it is worth another (refused or reset connections, timeouts, 408, 429, 5xx, an in-stream
 * error before the first token) and the caller is still there.
 */
function failure(error: GatewayErrorInfo, retryable: boolean, signal: AbortSignal): AttemptOutcome {
  return { kind: retryable && !signal.aborted ? 'retry' : 'stop', error };
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

/** An answer without a content type is taken for what was asked. */
function isEventStream(response: IncomingMessage, asked: boolean): boolean {
  const type = response.headers['content-type'];
  return type === undefined ? asked : type.includes('text/event-stream');
}

/**
 * Sends the call to one deployment and, when it answers, translates the answer to the caller (as one
 * body or as a stream) and records the usage. `attempts` counts this one.
 */
export async function tryDeployment(
  call: ModelCall,
  deployment: Deployment,
  attempts: number,
): Promise<AttemptOutcome> {
  const { dependencies, context, request, signal } = call;
  const upstreamAdapter = dependencies.adapterFor(deployment.protocol);
  const upstream = upstreamAdapter.buildUpstreamRequest(
    upstreamModelRequest(request, context.route.protocol, deployment),
    deployment.upstreamModel,
  );
  let upstreamResponse: IncomingMessage;
  try {
    upstreamResponse = await dependencies.client.send({
      url: new URL(deployment.apiBase + upstream.path),
      headers: upstreamHeaders(context.request.headers, context.route.protocol, deployment, request.stream),
      body: JSON.stringify(upstream.body),
      firstByteTimeoutMs: deployment.entry.firstByteTimeoutMs,
      idleTimeoutMs: deployment.entry.timeoutMs,
      signal,
    });
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    return failure(error.info, error.retryable, signal);
  }
  const status = upstreamResponse.statusCode ?? 502;
  if (status >= 400) {
    const text = await readUpstreamBody(upstreamResponse, dependencies.maxUpstreamBodyBytes).catch(() => '');
    return failure(
      upstreamAdapter.decodeUpstreamError(status, tryParseJson(text)),
      isRetryableStatus(status),
      signal,
    );
  }
  dependencies.router.reportSuccess(deployment);
  const where = { upstream: deployment.label, apiBase: deployment.apiBase, attempts };
  const response = context.response;
  try {
    const streamed = isEventStream(upstreamResponse, request.stream);
    const decodeContext = { toolNames: upstream.toolNames };
    let decoded: ModelResponse | undefined;
    if (!request.stream && streamed) {
      decoded = await collectStream(
        upstreamResponse,
        upstreamAdapter.createStreamDecoder(decodeContext),
        dependencies.maxUpstreamBodyBytes,
      );
    } else if (!streamed) {
      const text = await readUpstreamBody(upstreamResponse, dependencies.maxUpstreamBodyBytes);
      decoded = upstreamAdapter.decodeUpstreamResponse(tryParseJson(text), decodeContext);
    }
    if (!request.stream) {
      sendJson(response, 200, call.callerAdapter.encodeResponse(decoded!, { request }));
      call.record({ status: 200, ...where, ...usageTotals(decoded!.usage) });
      return { kind: 'answered' };
    }
    const outcome = await relayStream({
      upstreamResponse: decoded ? partsOfResponse(decoded) : upstreamResponse,
      response,
      decoder: upstreamAdapter.createStreamDecoder(decodeContext),
      encoder: call.callerAdapter.createStreamEncoder({ request }),
      clock: context.clock,
      signal,
    });
    if (outcome.failedBeforeFirstByte) {
      const error = outcome.failedBeforeFirstByte;
      return failure(error, isRetryableStatus(error.status), signal);
    }
    call.record({
      status: 200,
      ...where,
      ...usageTotals(outcome.usage),
      timeToFirstTokenMs: outcome.timeToFirstTokenMs,
      error: outcome.error,
    });
  } catch (error) {
    // An answer that could not be read or translated: nothing reached the caller yet, so say so in its shape.
    const info = toErrorInfo(error);
    answerFailure(response, call.callerAdapter, error);
    call.record({ status: info.status, ...where, error: info.message });
  }
  return { kind: 'answered' };
}
