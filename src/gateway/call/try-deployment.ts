import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerFailure, sendJson } from '../answers.js';
import { readUpstreamBody, tryParseJson } from '../bodies.js';
import { toErrorInfo } from '../protocol/errors.js';
import type {
  GatewayErrorInfo,
  ModelRequest,
  ModelResponse,
  ProtocolAdapter,
  ToolNameMap,
} from '../protocol/types.js';
import type { Deployment } from '../router.js';
import { isRetryableStatus, UpstreamFailure } from '../upstream-client.js';
import type { CallContext, CallDependencies } from './call-context.js';
import { collectStream } from './collect-stream.js';
import { prepareUpstream } from './prepare-upstream.js';
import { partsOfResponse, relayStream } from './relay-stream.js';
import { upstreamHeaders } from './upstream-headers.js';
import { usageTotals, type UsageOutcome } from './usage-record.js';

/** What the translation left out and which identity claims went upstream; recorded with the call. */
export interface SentNotes {
  notes: string[];
  identityClaims: string[];
}

/** What one attempt at one deployment came to. */
export type AttemptOutcome =
  /** The caller has its answer (or an error event after its answer began); the usage row is written. */
  | { kind: 'answered' }
  /** Nothing reached the caller, and another deployment (or this one, later) may do better. */
  | { kind: 'retry'; error: GatewayErrorInfo; sent: SentNotes }
  /** Nothing reached the caller, and no other attempt would change that (a 4xx, the caller left). */
  | { kind: 'stop'; error: GatewayErrorInfo; sent: SentNotes };

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
function failure(
  error: GatewayErrorInfo,
  retryable: boolean,
  signal: AbortSignal,
  sent: SentNotes,
): AttemptOutcome {
  return { kind: retryable && !signal.aborted ? 'retry' : 'stop', error, sent };
}

/** Headers are Latin-1: JSON with every other character escaped, and whole items left out past 4 kB. */
function headerValue(items: string[]): string {
  const ascii = (text: string) =>
    text.replace(
      /[^\x20-\x7e]/g,
      (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const kept = [...items];
  let json = ascii(JSON.stringify(kept));
  while (json.length > 4000 && kept.length > 1) {
    kept.pop();
    json = ascii(JSON.stringify([...kept, `… ${items.length - kept.length} more`]));
  }
  return json;
}

/**
 * The flow of a call made through the egress proxy records the answer's headers: the notes and the
 * identity claims travel there as `x-warren-gateway-notes` and `x-warren-identity-claims`. Set for each
 * attempt, so that the one that answers leaves its own.
 */
function markResponse(response: ServerResponse, sent: SentNotes): void {
  if (response.headersSent) return;
  const headers = [
    ['x-warren-gateway-notes', sent.notes],
    ['x-warren-identity-claims', sent.identityClaims],
  ] as const;
  for (const [name, items] of headers) {
    if (items.length > 0) response.setHeader(name, headerValue(items));
    else response.removeHeader(name);
  }
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
  const { upstream, ...sent } = prepareUpstream(request, context.route.protocol, deployment, upstreamAdapter);
  if (sent.identityClaims.length > 0)
    dependencies.onIdentityClaims?.(sent.identityClaims, deployment, request.model);
  markResponse(context.response, sent);
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
    return failure(error.info, error.retryable, signal, sent);
  }
  const status = upstreamResponse.statusCode ?? 502;
  if (status >= 400) {
    const text = await readUpstreamBody(upstreamResponse, dependencies.maxUpstreamBodyBytes).catch(() => '');
    return failure(
      upstreamAdapter.decodeUpstreamError(status, tryParseJson(text)),
      isRetryableStatus(status),
      signal,
      sent,
    );
  }
  dependencies.router.reportSuccess(deployment);
  return answerCaller(call, upstreamResponse, upstreamAdapter, upstream.toolNames, {
    where: { upstream: deployment.label, apiBase: deployment.apiBase, attempts, ...sent },
    sent,
  });
}

/**
 * The upstream answered: its answer, translated, goes to the caller as one body or as a stream, and the
 * usage row is written. A stream that fails before its first content is still a failure to retry; an
 * answer that cannot be read or translated is an error in the caller's shape.
 */
async function answerCaller(
  call: ModelCall,
  upstreamResponse: IncomingMessage,
  upstreamAdapter: ProtocolAdapter,
  toolNames: ToolNameMap,
  { where, sent }: { where: Omit<UsageOutcome, 'status'>; sent: SentNotes },
): Promise<AttemptOutcome> {
  const { dependencies, context, request, signal } = call;
  const response = context.response;
  try {
    const streamed = isEventStream(upstreamResponse, request.stream);
    const decodeContext = { toolNames };
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
      return failure(error, isRetryableStatus(error.status), signal, sent);
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
