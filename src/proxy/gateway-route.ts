import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createBodyCapture } from './capture.js';
import type { ListenerContext } from './context.js';
import { answer, emitFlow, recordAnswer, sendAnswer } from './exchange.js';
import type { FlowRecord, Header } from './flow.js';
import { isSecretHeader, REDACTED } from './redact.js';
import { noGatewayText } from './refusal-text.js';

/**
 * Requests for the model gateway (origin-form on the proxy port, or the host gateway.warren.internal)
 * are handled in-process and recorded like any other flow.
 */

export const GATEWAY_POLICY = Object.freeze({ decision: 'allow' as const, reason: 'Warren model gateway' });

type Chunk = string | Uint8Array;

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (typeof chunk === 'string')
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

function responseHeaders(response: ServerResponse): Header[] {
  const headers: Header[] = [];
  for (const [name, value] of Object.entries(response.getHeaders())) {
    const values = Array.isArray(value) ? value : [String(value)];
    for (const one of values) headers.push([name, isSecretHeader(name) ? REDACTED : one]);
  }
  return headers;
}

export function routeToGateway(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  flow: FlowRecord,
): void {
  flow.policy = { ...GATEWAY_POLICY };
  const gateway = context.gateway;
  if (!gateway) {
    const reply = answer(404, 'Not Found', noGatewayText());
    request.resume();
    sendAnswer(response, reply);
    recordAnswer(flow, reply);
    emitFlow(context, flow);
    return;
  }
  const requestCapture = createBodyCapture(context.bodyCapBytes);
  const responseCapture = createBodyCapture(context.bodyCapBytes);
  // The handler consumes the request however it likes (now or after an await), so the body is captured
  // where the HTTP parser hands it over rather than through a 'data' listener that would start the flow early.
  const push = request.push.bind(request);
  request.push = (chunk: unknown, encoding?: BufferEncoding) => {
    const buffer = toBuffer(chunk, encoding);
    if (buffer) requestCapture.add(buffer);
    return push(chunk, encoding);
  };
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  response.write = ((chunk: Chunk, ...rest: unknown[]) => {
    const buffer = toBuffer(chunk, rest[0]);
    if (buffer) responseCapture.add(buffer);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.end = ((chunk?: unknown, ...rest: unknown[]) => {
    const buffer = typeof chunk === 'function' ? undefined : toBuffer(chunk, rest[0]);
    if (buffer) responseCapture.add(buffer);
    return end(chunk, ...rest);
  }) as ServerResponse['end'];

  let done = false;
  const finish = (error?: string): void => {
    if (done) return;
    done = true;
    flow.request.body = requestCapture.result();
    flow.durationMs = Date.now() - flow.startedAt;
    if (response.headersSent) {
      const status = response.statusCode;
      flow.response = {
        status,
        statusText: response.statusMessage || STATUS_CODES[status] || '',
        httpVersion: 'HTTP/1.1',
        headers: responseHeaders(response),
        body: responseCapture.result(),
      };
    }
    if (error !== undefined) flow.error = error;
    emitFlow(context, flow);
  };
  response.on('finish', () => finish());
  response.on('close', () => finish('the connection closed before the gateway finished its response'));
  try {
    gateway(request, response, context.session);
  } catch (error) {
    context.logger.warn(`model gateway threw for ${flow.method} ${flow.url}: ${String(error)}`);
    if (!response.headersSent)
      sendAnswer(response, answer(500, 'Internal Server Error', 'The model gateway failed.\n'));
    else response.destroy();
  }
}
