import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { answer, answerRequest, sendAnswer } from './answers.js';
import type { ListenerContext } from './context.js';
import type { Header } from './flow.js';
import type { FlowRecorder } from './recorder.js';
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

/**
 * Copies what crosses the gateway's request and response into the recorder's captures. The gateway reads
 * the IncomingMessage and writes the ServerResponse as any Node handler does (it also runs standalone), so
 * the copy is taken where the bytes change hands: where the HTTP parser pushes request body chunks (a
 * 'data' listener would start the flow before the handler is ready), and where the handler writes.
 */
function tapBodies(request: IncomingMessage, response: ServerResponse, recorder: FlowRecorder): void {
  const push = request.push.bind(request);
  request.push = (chunk: unknown, encoding?: BufferEncoding) => {
    const buffer = toBuffer(chunk, encoding);
    if (buffer) recorder.requestBody.add(buffer);
    return push(chunk, encoding);
  };
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  response.write = ((chunk: Chunk, ...rest: unknown[]) => {
    const buffer = toBuffer(chunk, rest[0]);
    if (buffer) recorder.responseBody.add(buffer);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.end = ((chunk?: unknown, ...rest: unknown[]) => {
    const buffer = typeof chunk === 'function' ? undefined : toBuffer(chunk, rest[0]);
    if (buffer) recorder.responseBody.add(buffer);
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
}

export function routeToGateway(
  context: ListenerContext,
  request: IncomingMessage,
  response: ServerResponse,
  recorder: FlowRecorder,
): void {
  recorder.decided({ ...GATEWAY_POLICY });
  const gateway = context.gateway;
  if (!gateway) {
    answerRequest(recorder, request, response, answer(404, 'Not Found', noGatewayText()));
    return;
  }
  tapBodies(request, response, recorder);
  const finish = (error?: string): void => {
    if (recorder.finished) return;
    if (response.headersSent) {
      const status = response.statusCode;
      const statusText = response.statusMessage || STATUS_CODES[status] || '';
      recorder.responded(status, statusText, 'HTTP/1.1', responseHeaders(response));
    }
    recorder.finish(error);
  };
  response.on('finish', () => finish());
  response.on('close', () => finish('the connection closed before the gateway finished its response'));
  try {
    gateway(request, response, context.session);
  } catch (error) {
    context.logger.warn(
      `model gateway threw for ${recorder.flow.method} ${recorder.flow.url}: ${String(error)}`,
    );
    if (!response.headersSent)
      sendAnswer(response, answer(500, 'Internal Server Error', 'The model gateway failed.\n'));
    else response.destroy();
  }
}
