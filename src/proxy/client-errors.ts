import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { answer, badRequestAnswer, sendAnswer, writeAnswerToSocket, type WarrenAnswer } from './answers.js';
import type { ListenerContext } from './context.js';
import { createFlowRecorder, type FlowRecorder } from './recorder.js';
import { badRequestText } from './refusal-text.js';
import { formatAuthority } from './target.js';

/**
 * What never reaches a handler, and what fails inside one: a request Node's parser refuses (bad framing,
 * bare LF, headers over the limit…) and a handler that throws. Both are answered and recorded, like every
 * refusal: nothing the proxy turns away goes unrecorded.
 */

export const MAX_HEADER_BYTES = 64 * 1024;

/** The flow of the request in progress on `socket`, if it has not finished yet. */
function inFlight(context: ListenerContext, socket: Duplex): FlowRecorder | undefined {
  const recorder = context.recorders.get(socket);
  return recorder && !recorder.finished ? recorder : undefined;
}

/** What can be said of a request Node could not parse: its request line, as far as it goes. */
function recorderForUnparsed(
  context: ListenerContext,
  socket: Duplex,
  rawPacket: Buffer | undefined,
): FlowRecorder {
  const line = /^([A-Z]{1,20}) (\S{1,2048})/.exec(rawPacket?.toString('latin1', 0, 2100) ?? '');
  const method = line?.[1] ?? 'UNKNOWN';
  const target = line?.[2] ?? '';
  const tunnel = context.tunnels.get(socket);
  let url = target;
  let host = '';
  let port = 0;
  let scheme: 'http' | 'https' = 'http';
  if (tunnel) {
    scheme = tunnel.tls.mode === 'intercepted' ? 'https' : 'http';
    ({ host, port } = tunnel);
    if (target.startsWith('/')) url = `${scheme}://${formatAuthority(scheme, host, port)}${target}`;
  } else {
    try {
      const parsed = new URL(target);
      scheme = parsed.protocol === 'https:' ? 'https' : 'http';
      host = parsed.hostname;
      port = Number(parsed.port) || (scheme === 'https' ? 443 : 80);
    } catch {
      // Not an absolute URL: the flow keeps the target as written and no host.
    }
  }
  return createFlowRecorder(context, {
    method,
    url,
    scheme,
    host,
    port,
    httpVersion: 'HTTP/1.1',
    rawHeaders: [],
    tls: tunnel?.tls ?? { mode: 'none' },
  });
}

function clientErrorAnswer(error: NodeJS.ErrnoException): { reply: WarrenAnswer; problem: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const problem = `its headers exceed ${MAX_HEADER_BYTES / 1024} KiB`;
    return { reply: answer(431, 'Request Header Fields Too Large', badRequestText(problem)), problem };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    const problem = 'the client did not send a whole request in time';
    return { reply: answer(408, 'Request Timeout', badRequestText(problem)), problem };
  }
  const reason = (error as { reason?: string }).reason ?? error.message;
  const problem = `it is not valid HTTP/1.1 (${error.code ?? 'error'}: ${reason})`;
  return { reply: badRequestAnswer(problem), problem };
}

/**
 * Node's parser refused what the client sent: before a request (a new flow) or in the middle of one
 * (its body: that request's flow gets the refusal). Either way the connection closes, since where the
 * next request would start is unknown.
 */
export function answerClientError(
  context: ListenerContext,
  error: NodeJS.ErrnoException,
  socket: Duplex,
): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const { reply, problem } = clientErrorAnswer(error);
  const current = inFlight(context, socket);
  const recorder =
    current ?? recorderForUnparsed(context, socket, (error as { rawPacket?: Buffer }).rawPacket);
  recorder.decided({ decision: 'deny', reason: problem });
  if (current?.flow.response) {
    // The answer to that request has begun: nothing else can be written on this connection.
    socket.destroy();
    recorder.finish(problem);
    return;
  }
  writeAnswerToSocket(socket, reply);
  recorder.answered(reply);
  recorder.finish(problem);
}

/**
 * A handler threw: a bug, never a reason to let the request through or to leave it unrecorded. The request
 * is answered 500 when nothing was sent yet (else its connection is closed) and its flow says what failed.
 */
export function failedHandling(
  context: ListenerContext,
  socket: Duplex,
  response: ServerResponse | undefined,
  error: unknown,
): void {
  const recorder = inFlight(context, socket) ?? recorderForUnparsed(context, socket, undefined);
  const problem = `Warren failed while handling the request (${String(error)})`;
  context.logger.warn(`${problem}: ${recorder.flow.method} ${recorder.flow.url}`);
  if (recorder.flow.policy.reason === 'undecided') recorder.decided({ decision: 'deny', reason: problem });
  const reply = answer(500, 'Internal Server Error', badRequestText(problem));
  if (response && !response.headersSent) {
    sendAnswer(response, reply);
    recorder.answered(reply);
  } else {
    socket.destroy();
  }
  recorder.finish(problem);
}
