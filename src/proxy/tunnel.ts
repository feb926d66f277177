import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { answerSocket, badRequestAnswer, refusalOf } from './answers.js';
import type { ListenerContext } from './context.js';
import { failedHandling } from './client-errors.js';
import { decideDestination, flowPolicyOf, withDecision, type Authorization } from './decide.js';
import { GATEWAY_POLICY } from './gateway-route.js';
import { createFlowRecorder, type FlowRecorder } from './recorder.js';
import { notHttpInTunnelText } from './refusal-text.js';
import { GATEWAY_HOSTNAME, parseAuthority, type TunnelInfo } from './target.js';

/**
 * CONNECT: decide on the target, answer 200, then look at the first byte the client sends. TLS is
 * intercepted with a leaf from Warren's CA; plain HTTP is parsed as such; anything else is refused.
 * Either way the requests inside go through the same handler as absolute-form requests.
 */

const TLS_HANDSHAKE_RECORD = 0x16;
const HTTP_METHOD_START = /^[A-Z]+(?: |$)/;

function trackSocket(context: ListenerContext, socket: Duplex): void {
  context.sockets.add(socket);
  socket.once('close', () => context.sockets.delete(socket));
  // Errors end the socket; what matters was recorded where it happened.
  socket.on('error', () => socket.destroy());
}

function connectRecorder(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
  host: string,
  port: number,
): FlowRecorder {
  const shown = host.includes(':') ? `[${host}]` : host;
  return createFlowRecorder(context, {
    method: 'CONNECT',
    url: `${port === 80 ? 'http' : 'https'}://${shown}:${port}/`,
    scheme: port === 80 ? 'http' : 'https',
    host,
    port,
    httpVersion: `HTTP/${request.httpVersion}`,
    rawHeaders: request.rawHeaders,
    tls: { mode: 'none' },
    socket,
  });
}

export function handleConnect(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  trackSocket(context, socket);
  const targetText = request.url ?? '';
  const authority = parseAuthority(targetText, undefined);
  if (!authority) {
    const recorder = connectRecorder(context, request, socket, targetText.slice(0, 300), 0);
    const problem = `the CONNECT target "${targetText.slice(0, 300)}" is not host:port with a port from 1 to 65535`;
    recorder.decided({ decision: 'deny', reason: problem });
    answerSocket(recorder, socket, badRequestAnswer(problem));
    return;
  }
  const { host, port } = authority;
  const recorder = connectRecorder(context, request, socket, host, port);
  if (host === GATEWAY_HOSTNAME) {
    openTunnel(context, socket, head, recorder, {
      decision: { ...GATEWAY_POLICY },
      address: undefined,
      gateway: true,
    });
    return;
  }
  const decided = (authorization: Authorization): void => {
    recorder.decided(flowPolicyOf(authorization.decision));
    const refusal = refusalOf(`CONNECT ${targetText}`, authorization, host);
    if (refusal) {
      answerSocket(recorder, socket, refusal, authorization.failure);
      return;
    }
    openTunnel(context, socket, head, recorder, {
      decision: authorization.decision,
      address: authorization.address,
      gateway: false,
    });
  };
  withDecision(decideDestination(context, host, port), decided, (error) =>
    failedHandling(context, socket, undefined, error),
  );
}

/** A CONNECT inside a CONNECT tunnel: refused, since the outer tunnel already fixes the destination. */
export function refuseNestedConnect(
  context: ListenerContext,
  request: IncomingMessage,
  socket: Duplex,
): void {
  const tunnel = context.tunnels.get(socket);
  const target = parseAuthority(request.url ?? '', undefined);
  const recorder = connectRecorder(context, request, socket, target?.host ?? '', target?.port ?? 0);
  recorder.flow.tls = tunnel?.tls ?? recorder.flow.tls;
  const problem = 'CONNECT inside a CONNECT tunnel';
  recorder.decided({ decision: 'deny', reason: problem });
  answerSocket(recorder, socket, badRequestAnswer(problem));
}

function openTunnel(
  context: ListenerContext,
  socket: Duplex,
  head: Buffer,
  recorder: FlowRecorder,
  grant: Pick<TunnelInfo, 'decision' | 'address' | 'gateway'>,
): void {
  if (socket.destroyed) return;
  const flow = recorder.flow;
  const tunnel: TunnelInfo = {
    ...grant,
    host: flow.host,
    port: flow.port,
    tls: { mode: 'none' },
    openedAt: flow.startedAt,
  };
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  let dispatched = false;
  const dispatch = (first: Buffer): void => {
    dispatched = true;
    socket.removeListener('end', closedEarly);
    clearTimeout(timer);
    if (first[0] === TLS_HANDSHAKE_RECORD) {
      socket.pause();
      socket.unshift(first);
      intercept(context, socket, tunnel, recorder);
    } else if (HTTP_METHOD_START.test(first.subarray(0, 16).toString('latin1'))) {
      context.tunnels.set(socket, tunnel);
      // From here the requests inside are the flows of this socket; the CONNECT leaves none of its own.
      context.recorders.delete(socket);
      context.innerServer.emit('connection', socket);
      // The HTTP server now listens for 'data'; hand it the bytes already read.
      socket.emit('data', first);
    } else {
      const problem = `the client spoke neither TLS nor HTTP inside the tunnel to ${flow.host}:${flow.port}`;
      socket.end(notHttpInTunnelText(`${flow.host}:${flow.port}`));
      recorder.decided({ decision: 'deny', reason: problem });
      recorder.finish(problem);
    }
  };
  const timer = setTimeout(() => {
    socket.removeListener('data', dispatch);
    recorder.finish(
      `the client sent nothing inside the tunnel for ${context.tunnelFirstByteTimeoutMs / 1000} s`,
    );
    socket.destroy();
  }, context.tunnelFirstByteTimeoutMs);
  // A tunnel that ends before its first byte carried no request to record: the CONNECT is the record.
  // (Node's HTTP server allows half-open sockets, so the end of the client's side is 'end', not 'close'.)
  const closedEarly = (): void => {
    clearTimeout(timer);
    if (dispatched) return;
    recorder.finish('the client closed the tunnel before sending anything');
    socket.destroy();
  };
  socket.once('end', closedEarly);
  socket.once('close', closedEarly);
  if (head.length > 0) dispatch(head);
  else socket.once('data', dispatch);
}

function intercept(
  context: ListenerContext,
  socket: Duplex,
  tunnel: TunnelInfo,
  recorder: FlowRecorder,
): void {
  context.ca.leafFor(tunnel.host).then(
    (leaf) => {
      if (socket.destroyed) return;
      const tlsSocket = new TLSSocket(socket, {
        isServer: true,
        secureContext: leaf.secureContext,
        ALPNProtocols: ['http/1.1'],
      });
      trackSocket(context, tlsSocket);
      let secured = false;
      tlsSocket.on('keylog', (line: Buffer) => context.session.onKeylog?.(line));
      tlsSocket.once('secure', () => {
        secured = true;
        const sni = (tlsSocket as TLSSocket & { servername?: string | false }).servername;
        const alpn = tlsSocket.alpnProtocol;
        tunnel.tls = { mode: 'intercepted', ...(sni ? { sni } : {}), ...(alpn ? { alpn } : {}) };
      });
      tlsSocket.on('error', (error: Error) => {
        if (secured) return;
        secured = true; // record once
        recorder.flow.tls = { mode: 'intercepted' };
        recorder.finish(
          `the TLS handshake with the client failed (${error.message.trim()}); ` +
            `does the client trust Warren's CA (${context.ca.certificatePath})?`,
        );
      });
      context.tunnels.set(tlsSocket, tunnel);
      context.innerServer.emit('connection', tlsSocket);
    },
    (error: unknown) => {
      recorder.finish(`Warren could not sign a certificate for ${tunnel.host}: ${String(error)}`);
      socket.destroy();
    },
  );
}
