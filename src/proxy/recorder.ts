import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createBodyCapture, EMPTY_BODY, bodyFromText, type BodyCapture } from './capture.js';
import type { Duplex } from 'node:stream';
import type { ListenerContext } from './context.js';
import type { CapturedBody, FlowPolicy, FlowRecord, FlowTls, Header } from './flow.js';
import { redactRawHeaders } from './redact.js';

/**
 * One recorder per exchange (a request, a CONNECT, a WebSocket handshake): it builds the FlowRecord, keeps
 * the start time, the timings and both body captures, and hands the flow to the sink exactly once, however
 * many paths (answer, upstream end, error, client close) race to finish it.
 */

export interface FlowStart {
  method: string;
  url: string;
  scheme: FlowRecord['scheme'];
  host: string;
  port: number;
  httpVersion: string;
  /** Node's rawHeaders of the request; recorded with secrets redacted. */
  rawHeaders: readonly string[];
  tls: FlowTls;
  /** Epoch ms; default now. */
  startedAt?: number;
  /**
   * The client socket it arrived on. While the flow is in flight it is the socket's current flow
   * (`ListenerContext.recorders`): a parse error or a failure on that socket finishes this flow.
   */
  socket?: Duplex;
}

/** Everything Warren itself answers (refusals, errors, hook answers) takes this shape. */
export interface RecordedAnswer {
  status: number;
  statusText: string;
  headers: Header[];
}

export interface FlowRecorder {
  readonly flow: FlowRecord;
  readonly requestBody: BodyCapture;
  readonly responseBody: BodyCapture;
  readonly finished: boolean;
  /** The policy (or gateway, or hook) verdict, as the flow shows it. */
  decided(policy: FlowPolicy): void;
  /** Adds a note (a hook's) to the verdict's reason. */
  note(text: string): void;
  /** Timing marks of a forwarded exchange: its start, the request body sent, the response head received. */
  mark(point: 'forwarding' | 'sent' | 'headers'): void;
  /** The response head as it goes to the client; its body is the response capture. */
  responded(status: number, statusText: string, httpVersion: string, headers: Header[]): void;
  /** One of Warren's own answers; its body is `body` (the text of the answer by default). */
  answered(reply: RecordedAnswer & { body: string }, body?: CapturedBody): void;
  /** Records the flow (once; later calls do nothing). `error` says what went wrong, if anything did. */
  finish(error?: string): void;
  /** Calls back once the sink has stored the flows recorded so far (FlowSink.whenStored). */
  afterStored(callback: () => void): void;
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

/**
 * A class rather than an object of closures: one is made per request on the hot path, and prototype
 * methods cost nothing per instance (about 2 µs a request less than closures in bench/proxy.mjs).
 */
class Recorder implements FlowRecorder {
  readonly flow: FlowRecord;
  readonly requestBody: BodyCapture;
  readonly responseBody: BodyCapture;
  private done = false;
  private responseBodyFixed = false;
  private forwardingAt: number | undefined;
  private sentAt = 0;
  private headersAt = 0;

  constructor(
    private readonly context: ListenerContext,
    start: FlowStart,
    private readonly socket: Duplex | undefined,
  ) {
    const startedAt = start.startedAt ?? Date.now();
    this.flow = {
      id: timeOrderedId(startedAt),
      sessionId: context.session.id,
      startedAt,
      durationMs: -1,
      // -1: not applicable (HAR); send, wait and receive are set for forwarded exchanges.
      timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
      method: start.method,
      url: start.url,
      scheme: start.scheme,
      host: start.host,
      port: start.port,
      httpVersion: start.httpVersion,
      request: { headers: redactRawHeaders(start.rawHeaders), body: EMPTY_BODY },
      tls: start.tls,
      policy: { decision: 'deny', reason: 'undecided' },
    };
    // Once the session's recording budget is spent, bodies are only counted, not kept.
    const bodyCap = context.recording.spent ? 0 : context.bodyCapBytes;
    this.requestBody = createBodyCapture(bodyCap);
    this.responseBody = createBodyCapture(bodyCap);
  }

  get finished(): boolean {
    return this.done;
  }

  // Once finished, the flow belongs to the sink: late news (a decision that arrived after the client
  // left, say) must not change what was recorded.
  decided(policy: FlowPolicy): void {
    if (!this.done) this.flow.policy = policy;
  }

  note(text: string): void {
    if (!this.done) this.flow.policy = { ...this.flow.policy, reason: `${this.flow.policy.reason}; ${text}` };
  }

  mark(point: 'forwarding' | 'sent' | 'headers'): void {
    if (this.done) return;
    const now = performance.now();
    if (point === 'forwarding') this.forwardingAt = this.sentAt = this.headersAt = now;
    else if (point === 'sent') this.sentAt = now;
    else this.headersAt = now;
  }

  responded(status: number, statusText: string, httpVersion: string, headers: Header[]): void {
    if (this.done) return;
    this.flow.response = { status, statusText, httpVersion, headers, body: EMPTY_BODY };
    this.responseBodyFixed = false;
  }

  answered(reply: RecordedAnswer & { body: string }, body: CapturedBody = bodyFromText(reply.body)): void {
    if (this.done) return;
    this.flow.response = {
      status: reply.status,
      statusText: reply.statusText,
      httpVersion: 'HTTP/1.1',
      headers: reply.headers,
      body,
    };
    this.responseBodyFixed = true;
  }

  finish(error?: string): void {
    if (this.done) return;
    this.done = true;
    const { context, flow, socket } = this;
    // Off the socket's books: an idle keep-alive connection must not hold a finished flow's bodies.
    if (socket && context.recorders.get(socket) === this) context.recorders.delete(socket);
    flow.request.body = this.requestBody.result();
    if (flow.response && !this.responseBodyFixed) flow.response.body = this.responseBody.result();
    flow.durationMs = Date.now() - flow.startedAt;
    if (this.forwardingAt !== undefined) {
      flow.timings.send = this.sentAt - this.forwardingAt;
      flow.timings.wait = this.headersAt - this.sentAt;
      flow.timings.receive = performance.now() - this.headersAt;
    }
    if (error !== undefined) flow.error = error;
    context.recording.admit(flow);
    // The sink must not throw into the proxy, and a failing sink never blocks traffic.
    try {
      context.sink.record(flow);
    } catch (sinkError) {
      context.logger.warn(`flow sink failed for ${flow.method} ${flow.url}: ${String(sinkError)}`);
    }
  }

  afterStored(callback: () => void): void {
    if (this.context.sink.whenStored) this.context.sink.whenStored(callback);
    else callback();
  }
}

export function createFlowRecorder(context: ListenerContext, start: FlowStart): FlowRecorder {
  const recorder = new Recorder(context, start, start.socket);
  if (start.socket) context.recorders.set(start.socket, recorder);
  return recorder;
}
