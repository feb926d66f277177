import { STATUS_CODES, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerContext } from './context.js';
import {
  answer,
  emitFlow,
  newFlow,
  recordAnswer,
  writeAnswerToSocket,
  type WarrenAnswer,
} from './exchange.js';
import type { FlowRecord } from './flow.js';
import { flowPolicyOf, refusalAnswer, upstreamErrorAnswer, withHost } from './forward.js';
import { redactRawHeaders } from './redact.js';
import { badRequestText, upstreamFailureText } from './refusal-text.js';
import { requestTarget, type Destination } from './target.js';
import { authorize, endToEndHeaders, type Authorization } from './upstream.js';

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
  const flow = newFlow(context, {
    method: request.method ?? 'GET',
    url: target.kind === 'bad-request' ? target.url : target.url.replace(/^http/, 'ws'),
    scheme: secure ? 'wss' : 'ws',
    host: target.kind === 'bad-request' ? '' : target.host,
    port: target.kind === 'bad-request' ? 0 : target.port,
    httpVersion: `HTTP/${request.httpVersion}`,
    requestHeaders: redactRawHeaders(request.rawHeaders),
    tls: tunnel?.tls ?? { mode: 'none' },
    policy: { decision: 'deny', reason: 'undecided' },
    startedAt: Date.now(),
  });
  const what = `${flow.method} ${flow.url} (WebSocket)`;
  const reject = (reply: WarrenAnswer): void => {
    writeAnswerToSocket(socket, reply);
    recordAnswer(flow, reply);
    emitFlow(context, flow);
  };
  switch (target.kind) {
    case 'bad-request':
      flow.policy = { decision: 'deny', reason: target.problem };
      return reject(answer(400, 'Bad Request', badRequestText(target.problem)));
    case 'gateway':
      flow.policy = { decision: 'allow', reason: 'Warren model gateway' };
      return reject(
        answer(501, 'Not Implemented', 'The Warren model gateway does not accept WebSocket upgrades.\n'),
      );
    case 'mismatch': {
      const decision = { decision: 'deny' as const, reason: target.problem };
      flow.policy = flowPolicyOf(decision);
      return reject(refusalAnswer(what, decision, target.host));
    }
    case 'forward':
      break;
  }
  if (tunnel) {
    joinUpstream(context, request, socket, head, flow, target, {
      decision: tunnel.decision,
      address: tunnel.address,
      dnsMs: -1,
    });
    return;
  }
  authorize(context.session.policy, target.host, target.port, context.lookup).then(
    (authorization) => {
      flow.policy = flowPolicyOf(authorization.decision);
      if (authorization.resolveFailure !== undefined) {
        reject(answer(502, 'Bad Gateway', upstreamFailureText(what, authorization.resolveFailure)));
      } else if (authorization.decision.decision === 'deny' || authorization.address === undefined) {
        reject(refusalAnswer(what, authorization.decision, target.host));
      } else {
        joinUpstream(context, request, socket, head, flow, target, authorization);
      }
    },
    () => socket.destroy(),
  );
}

function joinUpstream(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  flow: FlowRecord,
  destination: Destination,
  authorization: Authorization,
): void {
  flow.policy = flowPolicyOf(authorization.decision);
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
    flow.response = {
      status,
      statusText,
      httpVersion: `HTTP/${httpVersion}`,
      headers: redactRawHeaders(rawHeaders),
      body: { size: 0, data: Buffer.alloc(0), truncated: false },
    };
    flow.durationMs = Date.now() - flow.startedAt;
    emitFlow(context, flow);
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
    if (flow.response) return;
    const reply = upstreamErrorAnswer(`${flow.method} ${flow.url}`, error, context.upstreamTimeoutMs);
    flow.error = error.message;
    writeAnswerToSocket(socket, reply);
    recordAnswer(flow, reply);
    emitFlow(context, flow);
  });
  upstreamRequest.end();
}
