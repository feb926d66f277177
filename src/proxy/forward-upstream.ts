import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { sendAnswer, upstreamErrorAnswer } from './answers.js';
import type { ListenerContext } from './context.js';
import { endToEndHeaders, withHost } from './forwarded-headers.js';
import type { BodyFraming } from './framing.js';
import type { BodySink } from './hooks.js';
import type { FlowRecorder } from './recorder.js';
import { redactRawHeaders } from './redact.js';
import type { ResponseHead } from './response-parser.js';
import type { Destination } from './target.js';
import type { UpstreamExchange, UpstreamHandlers } from './upstream-client.js';

/**
 * An allowed request on its way upstream, in three steps: open the exchange (request head, then the body
 * as it arrives), relay the response to the client as it arrives, finish the flow once, whichever way it
 * ends (upstream done, upstream failed, upstream silent, client gone).
 */

/** A request as it arrives: where it came from, how its body is framed, how it is answered, what records it. */
export interface Incoming {
  context: ListenerContext;
  request: IncomingMessage;
  response: ServerResponse;
  recorder: FlowRecorder;
  framing: BodyFraming;
}

/** A request the policy allowed, with the checked address to connect to. */
export interface Forwarding extends Incoming {
  destination: Destination;
  address: string;
}

/** Gives each response a body sink (session hooks: the download cache keeps what it may). */
export type SinkFactory = (status: number, rawHeaders: readonly string[]) => BodySink | undefined;

export function forwardUpstream(
  forwarding: Forwarding,
  rawHeaders: readonly string[],
  sinkOf?: SinkFactory,
): void {
  const { request, response, recorder } = forwarding;
  // The client may have left while DNS or a hook was answering: then nothing goes upstream.
  if (request.destroyed || response.destroyed) {
    recorder.finish('client closed the connection before the response');
    return;
  }
  recorder.mark('forwarding');
  const relay = relayResponse(forwarding, sinkOf);
  const exchange = openExchange(forwarding, rawHeaders, relay.handlers);
  relay.start(exchange);
}

/** Sends the request head upstream, then streams the client's body into the exchange as it arrives. */
function openExchange(
  forwarding: Forwarding,
  rawHeaders: readonly string[],
  handlers: UpstreamHandlers,
): UpstreamExchange {
  const { context, request, recorder, destination, framing } = forwarding;
  const secure = destination.scheme === 'https';
  const exchange = context.pool.request(
    {
      secure,
      address: forwarding.address,
      port: destination.port,
      servername: secure && isIP(destination.host) === 0 ? destination.host : undefined,
    },
    {
      method: request.method ?? 'GET',
      path: destination.path,
      headers: withHost(endToEndHeaders(rawHeaders, false), destination),
      body: framing,
    },
    handlers,
  );
  if (framing.kind === 'none') {
    exchange.endBody();
    return exchange;
  }
  request.on('data', (chunk: Buffer) => {
    recorder.requestBody.add(chunk);
    if (!exchange.writeBody(chunk)) {
      request.pause();
      exchange.onDrain(() => request.resume());
    }
  });
  request.on('end', () => {
    recorder.mark('sent');
    exchange.endBody();
  });
  return exchange;
}

/**
 * Handlers that pass the upstream's response to the client (with backpressure both ways) and record it;
 * `start` arms the upstream timeout and watches for the client leaving.
 */
function relayResponse(
  forwarding: Forwarding,
  sinkOf: SinkFactory | undefined,
): { handlers: UpstreamHandlers; start(exchange: UpstreamExchange): void } {
  const { context, response, recorder, destination } = forwarding;
  const flow = recorder.flow;
  let exchange: UpstreamExchange | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sink: BodySink | undefined;
  let awaitingDrain = false;
  let corked = false;

  const finish = (error?: string): void => {
    clearTimeout(timer);
    recorder.finish(error);
  };

  const fail = (error: Error): void => {
    if (recorder.finished) return;
    sink?.end(false);
    if (response.headersSent) {
      response.destroy();
      finish(`upstream failed mid-response: ${error.message}`);
      return;
    }
    const reply = upstreamErrorAnswer(`${flow.method} ${flow.url}`, error, context.upstreamTimeoutMs);
    sendAnswer(response, reply);
    recorder.answered(reply);
    finish(`${(error as NodeJS.ErrnoException).code ?? 'error'}: ${error.message}`);
  };

  const handlers: UpstreamHandlers = {
    onResponse(head: ResponseHead, socket) {
      clearTimeout(timer);
      recorder.mark('headers');
      const tlsSocket = socket as Partial<TLSSocket>;
      if (destination.scheme === 'https' && tlsSocket.getCipher) {
        flow.tls = { ...flow.tls, upstreamProtocol: 'TLS', upstreamCipher: tlsSocket.getCipher().name };
      }
      const statusText = head.statusText || STATUS_CODES[head.status] || '';
      recorder.responded(
        head.status,
        statusText,
        `HTTP/${head.httpVersion}`,
        redactRawHeaders(head.rawHeaders),
      );
      // Warren frames the response to the client itself: the checked length when the upstream framed it
      // by length (or declared one for HEAD and 304), else Node's writer chunks it (or closes, for HTTP/1.0).
      const headers = endToEndHeaders(head.rawHeaders, false);
      if (head.contentLength !== undefined && head.status !== 204) {
        headers.push('Content-Length', String(head.contentLength));
      }
      response.writeHead(head.status, statusText, headers);
      sink = sinkOf?.(head.status, head.rawHeaders);
    },
    onData(chunk) {
      recorder.responseBody.add(chunk);
      sink?.write(chunk);
      // Held until the sink's next commit (this event-loop turn): when the chunk is the body's last, the
      // flow is stored before the client can have the whole response (FlowSink.whenStored).
      if (!corked) {
        corked = true;
        response.cork();
        recorder.afterStored(() => {
          corked = false;
          response.uncork();
        });
      }
      const flowing = response.write(chunk);
      if (!flowing && !awaitingDrain) {
        awaitingDrain = true;
        response.once('drain', () => {
          awaitingDrain = false;
          exchange?.resume();
        });
      }
      return flowing;
    },
    onEnd() {
      sink?.end(true);
      finish();
      recorder.afterStored(() => response.end());
    },
    onError: fail,
  };

  return {
    handlers,
    start(opened) {
      exchange = opened;
      timer = setTimeout(() => {
        opened.abort();
        fail(Object.assign(new Error('upstream timeout'), { code: 'WARREN_UPSTREAM_TIMEOUT' }));
      }, context.upstreamTimeoutMs);
      response.on('close', () => {
        if (recorder.finished) return;
        sink?.end(false);
        opened.abort();
        finish(
          response.headersSent
            ? 'client closed the connection mid-response'
            : 'client closed the connection before the response',
        );
      });
    },
  };
}
