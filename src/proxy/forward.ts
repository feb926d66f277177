import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerRequest, badRequestAnswer, refusalAnswer, refusalOf } from './answers.js';
import type { ListenerContext } from './context.js';
import { failedHandling } from './client-errors.js';
import { decideDestination, flowPolicyOf, withDecision, type Authorization } from './decide.js';
import { forwardWithHooks } from './forward-hooks.js';
import { forwardUpstream, type Forwarding, type Incoming } from './forward-upstream.js';
import { rawHeaderValue } from './forwarded-headers.js';
import type { FlowTls } from './flow.js';
import { requestFramingOf } from './framing.js';
import { routeToGateway } from './gateway-route.js';
import { createFlowRecorder, type FlowRecorder } from './recorder.js';
import { requestTarget, type Destination, type RequestTarget, type TunnelInfo } from './target.js';

/**
 * Every HTTP request the proxy parses (absolute-form, or origin-form inside a CONNECT tunnel) starts here:
 * where it goes (target.ts), whether it may (decide.ts), then the gateway, the session hooks or the
 * upstream. One FlowRecorder follows it to the end.
 */

function tlsOf(tunnel: TunnelInfo | undefined, target: RequestTarget): FlowTls {
  if (tunnel) return tunnel.tls;
  return target.kind !== 'bad-request' && target.scheme === 'https'
    ? { mode: 'none', upstreamProtocol: 'TLS' }
    : { mode: 'none' };
}

function recorderFor(
  context: ListenerContext,
  request: IncomingMessage,
  target: RequestTarget,
  tunnel: TunnelInfo | undefined,
): FlowRecorder {
  const known = target.kind !== 'bad-request';
  return createFlowRecorder(context, {
    method: request.method ?? 'GET',
    url: target.url,
    scheme: known ? target.scheme : 'http',
    host: known ? target.host : '',
    port: known ? target.port : 0,
    httpVersion: `HTTP/${request.httpVersion}`,
    rawHeaders: request.rawHeaders,
    tls: tlsOf(tunnel, target),
    socket: request.socket,
  });
}

export function handleRequest(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const tunnel = context.tunnels.get(request.socket);
  const target = requestTarget(
    request.url ?? '/',
    rawHeaderValue(request.rawHeaders, 'host'),
    tunnel,
    context.listenerHost,
  );
  const recorder = recorderFor(context, request, target, tunnel);
  if (target.kind === 'bad-request') {
    recorder.decided({ decision: 'deny', reason: target.problem });
    answerRequest(recorder, request, response, badRequestAnswer(target.problem));
    return;
  }
  const framing = requestFramingOf(request.rawHeaders, request.httpVersion);
  if (framing.kind === 'ambiguous') {
    // Where this request's body ends is unclear, so where the next one starts is too: answer and close.
    recorder.decided({ decision: 'deny', reason: framing.problem });
    answerRequest(recorder, request, response, badRequestAnswer(framing.problem, { close: true }));
    return;
  }
  const what = `${recorder.flow.method} ${recorder.flow.url}`;
  if (target.kind === 'gateway') {
    routeToGateway(context, request, response, recorder);
    return;
  }
  if (target.kind === 'mismatch') {
    const decision = { decision: 'deny' as const, reason: target.problem };
    recorder.decided(decision);
    answerRequest(recorder, request, response, refusalAnswer(what, decision, target.host));
    return;
  }
  const incoming: Incoming = { context, request, response, recorder, framing };
  if (tunnel) {
    forward(incoming, target, { decision: tunnel.decision, address: tunnel.address, dnsMs: -1 });
    return;
  }
  withDecision(
    decideDestination(context, target.host, target.port),
    (authorization) => proceed(incoming, target, authorization),
    (error) => failedHandling(context, request.socket, response, error),
  );
}

function proceed(incoming: Incoming, destination: Destination, authorization: Authorization): void {
  const { recorder, request, response } = incoming;
  if (recorder.finished) return; // the client's request failed (or it left) while DNS answered
  recorder.decided(flowPolicyOf(authorization.decision));
  const refusal = refusalOf(`${recorder.flow.method} ${recorder.flow.url}`, authorization, destination.host);
  if (refusal) {
    answerRequest(recorder, request, response, refusal, authorization.failure);
    return;
  }
  recorder.flow.timings.dns = authorization.dnsMs;
  forward(incoming, destination, authorization);
}

/** An allowed request: through the session hooks when there are any, then upstream. */
function forward(incoming: Incoming, destination: Destination, authorization: Authorization): void {
  const { context, request, response, recorder, framing } = incoming;
  recorder.decided(flowPolicyOf(authorization.decision));
  // Spelled out rather than spread: an object literal is cheaper on the hot path.
  const address = authorization.address!;
  const forwarding: Forwarding = { context, request, response, recorder, framing, destination, address };
  if ((context.session.hooks ?? []).length === 0) {
    forwardUpstream(forwarding, request.rawHeaders);
    return;
  }
  forwardWithHooks(forwarding);
}
