import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Authorization } from './decide.js';
import type { Header } from './flow.js';
import { suggestRemedy, type PolicyDecision } from './policy.js';
import type { FlowRecorder } from './recorder.js';
import { badRequestText, refusalText, upstreamFailureText } from './refusal-text.js';

/**
 * Warren's own answers: refusals (403), requests it cannot handle (400), upstream failures (502/504),
 * built here and written to an HTTP response or a raw socket, always recorded. The texts they carry
 * live in refusal-text.ts.
 */

export interface WarrenAnswer {
  status: number;
  statusText: string;
  headers: Header[];
  body: string;
}

const TLS_TRUST_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function answer(status: number, statusText: string, body: string, extra: Header[] = []): WarrenAnswer {
  const headers: Header[] = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Cache-Control', 'no-store'],
    ...extra,
  ];
  return { status, statusText, headers, body };
}

/** 400; `close` also ends the connection after it (when where the next request starts is unclear). */
export function badRequestAnswer(problem: string, options: { close?: boolean } = {}): WarrenAnswer {
  return answer(400, 'Bad Request', badRequestText(problem), options.close ? [['Connection', 'close']] : []);
}

/** The 403 every refusal gets: the rule (or `default`) in a header, an explanation the agent can act on. */
export function refusalAnswer(what: string, decision: PolicyDecision, host: string): WarrenAnswer {
  const text = refusalText(what, decision.reason, suggestRemedy(decision, host));
  return answer(403, 'Forbidden', text, [['X-Warren-Policy', decision.rule ?? 'default']]);
}

export function upstreamErrorAnswer(what: string, error: unknown, timeoutMs: number): WarrenAnswer {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ETIMEDOUT' || code === 'WARREN_UPSTREAM_TIMEOUT') {
    return answer(
      504,
      'Gateway Timeout',
      upstreamFailureText(what, `no answer within ${timeoutMs / 1000} s`),
    );
  }
  let problem = `${(error as Error | undefined)?.message ?? String(error)}`;
  if (code === 'ECONNREFUSED') problem = 'the connection was refused';
  else if (code === 'ECONNRESET') problem = 'the upstream closed the connection';
  else if (TLS_TRUST_ERRORS.has(code))
    problem = `the upstream TLS certificate is not trusted (${code}: ${problem})`;
  return answer(502, 'Bad Gateway', upstreamFailureText(what, problem));
}

/**
 * What a decision means for the client: undefined when the destination may be reached, else the answer
 * (403 for a refusal, 502 for a name that does not resolve).
 */
export function refusalOf(
  what: string,
  authorization: Authorization,
  host: string,
): WarrenAnswer | undefined {
  if (authorization.resolveFailure !== undefined) {
    return answer(502, 'Bad Gateway', upstreamFailureText(what, authorization.resolveFailure));
  }
  if (authorization.decision.decision === 'deny' || authorization.address === undefined) {
    return refusalAnswer(what, authorization.decision, host);
  }
  return undefined;
}

export function sendAnswer(response: ServerResponse, reply: WarrenAnswer): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(reply.status, reply.statusText, reply.headers.flat());
  response.end(reply.body);
}

/** For sockets that left HTTP handling (CONNECT, upgrades): a whole response, then close. */
export function writeAnswerToSocket(socket: Duplex, reply: WarrenAnswer): void {
  if (socket.destroyed) return;
  const head = [
    `HTTP/1.1 ${reply.status} ${reply.statusText}`,
    ...reply.headers.map(([name, value]) => `${name}: ${value}`),
  ];
  head.push('Connection: close', '', '');
  socket.end(head.join('\r\n') + reply.body);
}

/** Answers an HTTP request with `reply` (its body, if any, is read and dropped), records and finishes the flow. */
export function answerRequest(
  recorder: FlowRecorder,
  request: IncomingMessage,
  response: ServerResponse,
  reply: WarrenAnswer,
  error?: string,
): void {
  request.resume();
  // Sent once recorded and stored: the client never has an answer whose flow a crash could lose.
  recorder.answered(reply);
  recorder.finish(error);
  recorder.afterStored(() => sendAnswer(response, reply));
}

/** Answers on a raw socket (CONNECT, upgrades) with `reply` and closes it; records and finishes the flow. */
export function answerSocket(
  recorder: FlowRecorder,
  socket: Duplex,
  reply: WarrenAnswer,
  error?: string,
): void {
  recorder.answered(reply);
  recorder.finish(error);
  recorder.afterStored(() => writeAnswerToSocket(socket, reply));
}
