import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createBodyCapture, EMPTY_BODY } from './capture.js';
import type { TLSSocket } from 'node:tls';
import type { ListenerContext } from './context.js';
import { answer, emitFlow, newFlow, recordAnswer, sendAnswer, type WarrenAnswer } from './exchange.js';
import type { FlowPolicy, FlowRecord, FlowTls } from './flow.js';
import { routeToGateway } from './gateway-route.js';
import { suggestRemedy, type PolicyDecision } from './policy.js';
import { redactRawHeaders } from './redact.js';
import { badRequestText, refusalText, upstreamFailureText } from './refusal-text.js';
import { formatAuthority, requestTarget, type Destination, type TunnelInfo } from './target.js';
import { authorize, authorizeLiteral, endToEndHeaders, type Authorization } from './upstream.js';
import { hookExchangeOf, sendHookAnswer } from './hooks-forward.js';
import { planForward, responseSinks, type BodySink } from './hooks.js';

/** Plain HTTP requests (absolute-form, or origin-form inside a CONNECT tunnel): decide, forward, record. */

const TLS_TRUST_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function flowPolicyOf(decision: PolicyDecision): FlowPolicy {
  return decision.rule === undefined
    ? { decision: decision.decision, reason: decision.reason }
    : { decision: decision.decision, rule: decision.rule, reason: decision.reason };
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
 * A header from Node's rawHeaders. Reading `request.headers` instead would build Node's lazy headers
 * object on every request of the hot path.
 */
export function rawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return rawHeaders[index + 1];
  }
  return undefined;
}

/** The Host upstream sees is always the authority that was checked (see target.ts). */
export function withHost(headers: string[], destination: Destination): string[] {
  const kept: string[] = ['Host', formatAuthority(destination.scheme, destination.host, destination.port)];
  for (let index = 0; index < headers.length; index += 2) {
    if (headers[index]!.toLowerCase() !== 'host') kept.push(headers[index]!, headers[index + 1]!);
  }
  return kept;
}

function tlsOf(tunnel: TunnelInfo | undefined, destination: Destination): FlowTls {
  if (tunnel) return tunnel.tls;
  return destination.scheme === 'https' ? { mode: 'none', upstreamProtocol: 'TLS' } : { mode: 'none' };
}

export function handleRequest(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const startedAt = Date.now();
  const tunnel = context.tunnels.get(request.socket);
  const target = requestTarget(
    request.url ?? '/',
    rawHeaderValue(request.rawHeaders, 'host'),
    tunnel,
    context.listenerHost,
  );
  if (target.kind === 'bad-request') {
    const reply = answer(400, 'Bad Request', badRequestText(target.problem));
    const flow = newFlow(context, {
      method: request.method ?? 'GET',
      url: target.url,
      scheme: 'http',
      host: '',
      port: 0,
      httpVersion: `HTTP/${request.httpVersion}`,
      requestHeaders: redactRawHeaders(request.rawHeaders),
      tls: tunnel?.tls ?? { mode: 'none' },
      policy: { decision: 'deny', reason: target.problem },
      startedAt,
    });
    request.resume();
    sendAnswer(response, reply);
    recordAnswer(flow, reply);
    emitFlow(context, flow);
    return;
  }
  const flow = newFlow(context, {
    method: request.method ?? 'GET',
    url: target.url,
    scheme: target.scheme,
    host: target.host,
    port: target.port,
    httpVersion: `HTTP/${request.httpVersion}`,
    requestHeaders: redactRawHeaders(request.rawHeaders),
    tls: tlsOf(tunnel, target),
    policy: { decision: 'deny', reason: 'undecided' },
    startedAt,
  });
  const what = `${flow.method} ${flow.url}`;
  if (target.kind === 'gateway') {
    routeToGateway(context, request, response, flow);
    return;
  }
  if (target.kind === 'mismatch') {
    refuse(context, request, response, flow, { decision: 'deny', reason: target.problem }, what);
    return;
  }
  if (tunnel) {
    const authorization: Authorization = { decision: tunnel.decision, address: tunnel.address, dnsMs: -1 };
    forward(context, request, response, flow, target, authorization);
    return;
  }
  const literal = literalAuthorization(context, target.host, target.port);
  if (literal) {
    proceed(context, request, response, flow, target, literal);
    return;
  }
  authorize(context.session.policy, target.host, target.port, context.lookup).then(
    (authorization) => proceed(context, request, response, flow, target, authorization),
    (error: unknown) =>
      refuse(
        context,
        request,
        response,
        flow,
        { decision: 'deny', reason: `deciding failed (${String(error)})` },
        what,
      ),
  );
}

const LITERAL_CACHE_SIZE = 1024;

function literalAuthorization(
  context: ListenerContext,
  host: string,
  port: number,
): Authorization | undefined {
  const cache = context.literalDecisions;
  const policy = context.session.policy;
  if (cache.policy !== policy) {
    cache.policy = policy;
    cache.entries.clear();
  }
  const key = `${host} ${port}`;
  let entry = cache.entries.get(key);
  if (entry === undefined) {
    entry = authorizeLiteral(policy, host, port) ?? null; // null: a name, decided asynchronously
    if (cache.entries.size >= LITERAL_CACHE_SIZE) cache.entries.clear();
    cache.entries.set(key, entry);
  }
  return entry ?? undefined;
}

function proceed(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  flow: FlowRecord,
  target: Destination,
  authorization: Authorization,
): void {
  const what = `${flow.method} ${flow.url}`;
  if (authorization.resolveFailure !== undefined) {
    flow.policy = flowPolicyOf(authorization.decision);
    request.resume();
    const failure = upstreamFailureText(what, authorization.resolveFailure);
    finishWithAnswer(context, response, flow, answer(502, 'Bad Gateway', failure));
  } else if (authorization.decision.decision === 'deny' || authorization.address === undefined) {
    refuse(context, request, response, flow, authorization.decision, what);
  } else {
    flow.timings.dns = authorization.dnsMs;
    forward(context, request, response, flow, target, authorization);
  }
}

function finishWithAnswer(
  context: ListenerContext,
  response: ServerResponse,
  flow: FlowRecord,
  reply: WarrenAnswer,
): void {
  sendAnswer(response, reply);
  recordAnswer(flow, reply);
  emitFlow(context, flow);
}

function refuse(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  flow: FlowRecord,
  decision: PolicyDecision,
  what: string,
): void {
  flow.policy = flowPolicyOf(decision);
  request.resume();
  finishWithAnswer(context, response, flow, refusalAnswer(what, decision, flow.host));
}

function forward(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  flow: FlowRecord,
  destination: Destination,
  authorization: Authorization,
): void {
  const hooks = context.session.hooks ?? [];
  if (hooks.length === 0) {
    forwardUpstream(context, request, response, flow, destination, authorization, request.rawHeaders);
    return;
  }
  // Session hooks (download cache, secret swap): see hooks.ts. They may answer, refuse or rewrite headers.
  flow.policy = flowPolicyOf(authorization.decision);
  const exchange = hookExchangeOf(context, flow, destination, request.rawHeaders);
  const what = `${flow.method} ${flow.url}`;
  planForward(hooks, exchange).then(
    (plan) => {
      if (plan.kind === 'refuse') {
        refuse(
          context,
          request,
          response,
          flow,
          { decision: 'deny', rule: plan.rule, reason: plan.reason },
          what,
        );
      } else if (plan.kind === 'answer') {
        request.resume();
        flow.policy = { ...flow.policy, reason: `${flow.policy.reason}; ${plan.note}` };
        sendHookAnswer(context, response, flow, plan);
      } else {
        if (plan.notes.length > 0)
          flow.policy = { ...flow.policy, reason: `${flow.policy.reason}; ${plan.notes.join('; ')}` };
        const sinkOf = (status: number, rawHeaders: readonly string[]) =>
          responseSinks(hooks, { ...exchange, rawHeaders: plan.rawHeaders }, { status, rawHeaders });
        forwardUpstream(
          context,
          request,
          response,
          flow,
          destination,
          authorization,
          plan.rawHeaders,
          sinkOf,
        );
      }
    },
    (error: unknown) =>
      refuse(
        context,
        request,
        response,
        flow,
        { decision: 'deny', reason: `hooks failed (${String(error)})` },
        what,
      ),
  );
}

function forwardUpstream(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  flow: FlowRecord,
  destination: Destination,
  authorization: Authorization,
  rawHeaders: readonly string[],
  sinkOf?: (status: number, rawHeaders: readonly string[]) => BodySink | undefined,
): void {
  flow.policy = flow.policy.decision === 'allow' ? flow.policy : flowPolicyOf(authorization.decision);
  const begun = performance.now();
  const secure = destination.scheme === 'https';
  const body =
    rawHeaderValue(request.rawHeaders, 'content-length') !== undefined
      ? 'length'
      : rawHeaderValue(request.rawHeaders, 'transfer-encoding') !== undefined
        ? 'chunked'
        : 'none';
  const requestCapture = createBodyCapture(context.bodyCapBytes);
  const responseCapture = createBodyCapture(context.bodyCapBytes);
  let sink: BodySink | undefined;
  let awaitingDrain = false;
  let done = false;
  let sentAt = begun;
  let headersAt = begun;

  const finish = (error?: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const end = performance.now();
    flow.request.body = requestCapture.result();
    if (flow.response) flow.response.body = responseCapture.result();
    flow.durationMs = Date.now() - flow.startedAt;
    flow.timings.send = sentAt - begun;
    flow.timings.wait = headersAt - sentAt;
    flow.timings.receive = end - headersAt;
    if (error !== undefined) flow.error = error;
    emitFlow(context, flow);
  };

  const fail = (error: Error): void => {
    if (done) return;
    sink?.end(false);
    if (response.headersSent) {
      response.destroy();
      finish(`upstream failed mid-response: ${error.message}`);
      return;
    }
    const reply = upstreamErrorAnswer(`${flow.method} ${flow.url}`, error, context.upstreamTimeoutMs);
    sendAnswer(response, reply);
    recordAnswer(flow, reply);
    finish(`${(error as NodeJS.ErrnoException).code ?? 'error'}: ${error.message}`);
  };

  const exchange = context.pool.request(
    {
      secure,
      address: authorization.address!,
      port: destination.port,
      servername: secure && isIP(destination.host) === 0 ? destination.host : undefined,
    },
    {
      method: request.method ?? 'GET',
      path: destination.path,
      headers: withHost(endToEndHeaders(rawHeaders, false), destination),
      body,
    },
    {
      onResponse(head, socket) {
        clearTimeout(timer);
        headersAt = performance.now();
        const tlsSocket = socket as Partial<TLSSocket>;
        if (secure && tlsSocket.getCipher) {
          flow.tls = { ...flow.tls, upstreamProtocol: 'TLS', upstreamCipher: tlsSocket.getCipher().name };
        }
        const statusText = head.statusText || STATUS_CODES[head.status] || '';
        flow.response = {
          status: head.status,
          statusText,
          httpVersion: `HTTP/${head.httpVersion}`,
          headers: redactRawHeaders(head.rawHeaders),
          body: EMPTY_BODY,
        };
        response.writeHead(head.status, statusText, endToEndHeaders(head.rawHeaders, false));
        sink = sinkOf?.(head.status, head.rawHeaders);
      },
      onData(chunk) {
        responseCapture.add(chunk);
        sink?.write(chunk);
        const flowing = response.write(chunk);
        if (!flowing && !awaitingDrain) {
          awaitingDrain = true;
          response.once('drain', () => {
            awaitingDrain = false;
            exchange.resume();
          });
        }
        return flowing;
      },
      onEnd() {
        sink?.end(true);
        response.end();
        finish();
      },
      onError: fail,
    },
  );

  const timer = setTimeout(() => {
    exchange.abort();
    fail(Object.assign(new Error('upstream timeout'), { code: 'WARREN_UPSTREAM_TIMEOUT' }));
  }, context.upstreamTimeoutMs);

  response.on('close', () => {
    if (done) return;
    sink?.end(false);
    exchange.abort();
    finish(
      response.headersSent
        ? 'client closed the connection mid-response'
        : 'client closed the connection before the response',
    );
  });
  if (body === 'none') {
    exchange.endBody();
    return;
  }
  request.on('data', (chunk: Buffer) => {
    requestCapture.add(chunk);
    if (!exchange.writeBody(chunk)) {
      request.pause();
      exchange.onDrain(() => request.resume());
    }
  });
  request.on('end', () => {
    sentAt = performance.now();
    exchange.endBody();
  });
}
