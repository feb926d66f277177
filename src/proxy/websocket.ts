import { STATUS_CODES, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  answer,
  answerSocket,
  badRequestAnswer,
  refusalAnswer,
  refusalOf,
  upstreamErrorAnswer,
  type WarrenAnswer,
} from './answers.js';
import type { ListenerContext } from './context.js';
import { failedHandling } from './client-errors.js';
import { decideDestination, flowPolicyOf, withDecision, type Authorization } from './decide.js';
import { endToEndHeaders, withHost } from './forwarded-headers.js';
import { requestFramingOf } from './framing.js';
import { GATEWAY_POLICY } from './gateway-route.js';
import { createFlowRecorder, type FlowRecorder } from './recorder.js';
import { redactRawHeaders } from './redact.js';
import { requestTarget, type Destination } from './target.js';

/**
 * Upgrade requests (WebSocket): same decision as any request, then the two sockets are joined. The
 * handshake is recorded as a flow; the frames that follow pass through unrecorded.
 */

function headLines(statusLine: string, rawHeaders: readonly string[]): string {
  const lines = [statusLine];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2)
    lines.push(`${rawHeaders[index]}: ${rawHeaders[index + 1]}`);
  lines.push('', '');
  return lines.join('\r\n');
}

/**
 * An upgrade carries no body: after the handshake the connection belongs to the new protocol, so bytes
 * framed as a body would reach the upstream as frames. Ambiguous framing is refused as anywhere else.
 */
function upgradeBodyProblem(request: IncomingMessage): string | undefined {
  const framing = requestFramingOf(request.rawHeaders, request.httpVersion);
  if (framing.kind === 'ambiguous') return framing.problem;
  if (framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0))
    return 'an upgrade request with a body';
  return undefined;
}

export function handleUpgrade(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', () => socket.destroy());
  context.sockets.add(socket);
  socket.once('close', () => context.sockets.delete(socket));
  const tunnel = context.tunnels.get(socket);
  const target = requestTarget(request.url ?? '/', request.headers.host, tunnel, context.listenerHost);
  const secure = target.kind !== 'bad-request' && target.scheme === 'https';
  const recorder = createFlowRecorder(context, {
    method: request.method ?? 'GET',
    url: target.kind === 'bad-request' ? target.url : target.url.replace(/^http/, 'ws'),
    scheme: secure ? 'wss' : 'ws',
    host: target.kind === 'bad-request' ? '' : target.host,
    port: target.kind === 'bad-request' ? 0 : target.port,
    httpVersion: `HTTP/${request.httpVersion}`,
    rawHeaders: request.rawHeaders,
    tls: tunnel?.tls ?? { mode: 'none' },
    socket,
  });
  const what = `${recorder.flow.method} ${recorder.flow.url} (WebSocket)`;
  const reject = (reply: WarrenAnswer): void => answerSocket(recorder, socket, reply);
  const bodyProblem = upgradeBodyProblem(request);
  if (bodyProblem !== undefined && target.kind !== 'bad-request') {
    recorder.decided({ decision: 'deny', reason: bodyProblem });
    return reject(badRequestAnswer(bodyProblem));
  }
  switch (target.kind) {
    case 'bad-request':
      recorder.decided({ decision: 'deny', reason: target.problem });
      return reject(badRequestAnswer(target.problem));
    case 'gateway':
      recorder.decided({ ...GATEWAY_POLICY });
      return reject(
        answer(501, 'Not Implemented', 'The Warren model gateway does not accept WebSocket upgrades.\n'),
      );
    case 'mismatch': {
      const decision = { decision: 'deny' as const, reason: target.problem };
      recorder.decided(decision);
      return reject(refusalAnswer(what, decision, target.host));
    }
    case 'forward':
      break;
  }
  if (tunnel) {
    joinUpstream(context, request, socket, head, recorder, target, {
      decision: tunnel.decision,
      address: tunnel.address,
      dnsMs: -1,
    });
    return;
  }
  withDecision(
    decideDestination(context, target.host, target.port),
    (authorization) => {
      recorder.decided(flowPolicyOf(authorization.decision));
      const refusal = refusalOf(what, authorization, target.host);
      if (refusal) answerSocket(recorder, socket, refusal, authorization.failure);
      else joinUpstream(context, request, socket, head, recorder, target, authorization);
    },
    (error) => failedHandling(context, socket, undefined, error),
  );
}

function joinUpstream(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  recorder: FlowRecorder,
  destination: Destination,
  authorization: Authorization,
): void {
  recorder.decided(flowPolicyOf(authorization.decision));
  const secure = destination.scheme === 'https';
  const options: RequestOptions & { servername?: string; secureContext?: unknown } = {
    host: authorization.address,
    port: destination.port,
    method: request.method,
    path: destination.path,
    headers: withHost(
      endToEndHeaders(request.rawHeaders, true),
      destination,
    ) as unknown as RequestOptions['headers'],
    setHost: false,
    agent: false,
    maxHeaderSize: 64 * 1024,
  };
  if (secure) {
    options.secureContext = context.upstreamTrust();
    if (isIP(destination.host) === 0) options.servername = destination.host;
  }
  const upstreamRequest = (secure ? httpsRequest : httpRequest)(options);
  const timer = setTimeout(
    () => upstreamRequest.destroy(Object.assign(new Error('timeout'), { code: 'WARREN_UPSTREAM_TIMEOUT' })),
    context.upstreamTimeoutMs,
  );
  if (secure && context.session.onKeylog) {
    const onKeylog = context.session.onKeylog;
    upstreamRequest.on('socket', (upstreamSocket) =>
      upstreamSocket.on('keylog', (line: Buffer) => onKeylog(line)),
    );
  }
  const record = (
    status: number,
    statusText: string,
    rawHeaders: readonly string[],
    httpVersion: string,
  ): void => {
    clearTimeout(timer);
    recorder.responded(status, statusText, `HTTP/${httpVersion}`, redactRawHeaders(rawHeaders));
    recorder.finish();
  };
  upstreamRequest.on(
    'upgrade',
    (upstreamResponse: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      const status = upstreamResponse.statusCode ?? 101;
      const statusText = upstreamResponse.statusMessage || STATUS_CODES[status] || 'Switching Protocols';
      socket.write(headLines(`HTTP/1.1 ${status} ${statusText}`, upstreamResponse.rawHeaders));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.on('error', () => socket.destroy());
      socket.on('error', () => upstreamSocket.destroy());
      upstreamSocket.on('close', () => socket.destroy());
      socket.on('close', () => upstreamSocket.destroy());
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
      record(status, statusText, upstreamResponse.rawHeaders, upstreamResponse.httpVersion);
    },
  );
  upstreamRequest.on('response', (upstreamResponse: IncomingMessage) => {
    // The upstream declined the upgrade: relay its answer as is, then close.
    const status = upstreamResponse.statusCode ?? 502;
    const statusText = upstreamResponse.statusMessage || STATUS_CODES[status] || '';
    const headers = endToEndHeaders(upstreamResponse.rawHeaders, false);
    socket.write(headLines(`HTTP/1.1 ${status} ${statusText}`, [...headers, 'Connection', 'close']));
    upstreamResponse.pipe(socket);
    record(status, statusText, upstreamResponse.rawHeaders, upstreamResponse.httpVersion);
  });
  upstreamRequest.on('error', (error) => {
    clearTimeout(timer);
    if (recorder.finished) return;
    const flow = recorder.flow;
    const reply = upstreamErrorAnswer(`${flow.method} ${flow.url}`, error, context.upstreamTimeoutMs);
    answerSocket(recorder, socket, reply, error.message);
  });
  upstreamRequest.end();
}
