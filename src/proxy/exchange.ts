import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EMPTY_BODY, bodyFromText } from './capture.js';
import type { ListenerContext } from './context.js';
import type { CapturedBody, FlowPolicy, FlowRecord, FlowTls, Header } from './flow.js';

/** Building and emitting FlowRecords, and writing Warren's own answers (refusals, errors). */

export const NO_TIMINGS = Object.freeze({
  blocked: -1,
  dns: -1,
  connect: -1,
  ssl: -1,
  send: 0,
  wait: 0,
  receive: 0,
});
export const NO_TLS: FlowTls = Object.freeze({ mode: 'none' });

export interface FlowStart {
  method: string;
  url: string;
  scheme: FlowRecord['scheme'];
  host: string;
  port: number;
  httpVersion: string;
  requestHeaders: Header[];
  tls: FlowTls;
  policy: FlowPolicy;
  startedAt: number;
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of milliseconds, then random bits. Time-ordered ids make every insert
 * into the store's id index an append instead of a random B-tree insert: half the SQLite cost per
 * flow in bench/proxy.mjs. The random part comes from randomUUID (v4) with its version nibble replaced.
 */
export function timeOrderedId(epochMs: number): string {
  const random = randomUUID();
  const time = Math.max(0, Math.floor(epochMs)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

export function newFlow(context: ListenerContext, start: FlowStart): FlowRecord {
  return {
    id: timeOrderedId(start.startedAt),
    sessionId: context.session.id,
    startedAt: start.startedAt,
    durationMs: -1,
    timings: { ...NO_TIMINGS },
    method: start.method,
    url: start.url,
    scheme: start.scheme,
    host: start.host,
    port: start.port,
    httpVersion: start.httpVersion,
    request: { headers: start.requestHeaders, body: EMPTY_BODY },
    tls: start.tls,
    policy: start.policy,
  };
}

/** Hands the flow over; the sink must not throw into the proxy, and a failing sink never blocks traffic. */
export function emitFlow(context: ListenerContext, flow: FlowRecord): void {
  try {
    context.sink.record(flow);
  } catch (error) {
    context.logger.warn(`flow sink failed for ${flow.method} ${flow.url}: ${String(error)}`);
  }
}

export interface WarrenAnswer {
  status: number;
  statusText: string;
  headers: Header[];
  body: string;
}

export function answer(status: number, statusText: string, body: string, extra: Header[] = []): WarrenAnswer {
  const headers: Header[] = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Cache-Control', 'no-store'],
    ...extra,
  ];
  return { status, statusText, headers, body };
}

export function recordAnswer(
  flow: FlowRecord,
  reply: WarrenAnswer,
  body: CapturedBody = bodyFromText(reply.body),
): void {
  flow.response = {
    status: reply.status,
    statusText: reply.statusText,
    httpVersion: 'HTTP/1.1',
    headers: reply.headers,
    body,
  };
  flow.durationMs = Date.now() - flow.startedAt;
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
