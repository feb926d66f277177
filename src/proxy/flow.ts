/**
 * The record of one request/response that crossed the egress proxy. HAR 1.2 is an export of these.
 * The proxy produces them; the store persists them; the server and CLI read them.
 */
export interface CapturedBody {
  /** Bytes seen on the wire (after de-chunking, before any decoding), even when `data` was cut. */
  size: number;
  /** At most the configured cap of the body, as received. */
  data: Buffer;
  truncated: boolean;
}

export type Header = [name: string, value: string];

export interface FlowTimings {
  /** Milliseconds; -1 where not applicable (HAR convention). */
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
}

export interface FlowTls {
  /** intercepted: Warren terminated TLS with its CA; tunnelled: bytes passed through; none: plain HTTP. */
  mode: 'intercepted' | 'tunnelled' | 'none';
  sni?: string;
  alpn?: string;
  upstreamProtocol?: string;
  upstreamCipher?: string;
}

export interface FlowPolicy {
  decision: 'allow' | 'deny';
  /** The rule that decided, as written (`*.github.com`, `10.0.0.0/8:443`), or undefined for the default. */
  rule?: string;
  /** Human-readable explanation shown in the UI, the logs and the body of a refusal. */
  reason: string;
}

export interface FlowRecord {
  /** UUIDv7: time-ordered, so ids sort by start time and append to the store's index. */
  id: string;
  sessionId: string;
  /** Epoch milliseconds when the request started. */
  startedAt: number;
  /** Total time in milliseconds, -1 if the response never completed. */
  durationMs: number;
  timings: FlowTimings;
  method: string;
  /** Absolute URL: scheme://host[:port]/path?query */
  url: string;
  scheme: 'http' | 'https' | 'ws' | 'wss';
  host: string;
  port: number;
  httpVersion: string;
  request: { headers: Header[]; body: CapturedBody };
  response?: {
    status: number;
    statusText: string;
    httpVersion: string;
    headers: Header[];
    body: CapturedBody;
  };
  tls: FlowTls;
  policy: FlowPolicy;
  /** Set when the exchange failed (upstream refused, TLS error, client aborted…). */
  error?: string;
  /** Set when Warren's recording limits left something out of this record (see recording-budget.ts). */
  recording?: FlowRecording;
}

export interface FlowRecording {
  /**
   * Bytes seen but not stored because of the recording limits: headers over the per-flow cap, long URLs
   * and texts, and for a metadata-only flow all its headers and the body bytes it would have kept. Body
   * bytes over bodyCapBytes are not counted here (see CapturedBody.truncated).
   */
  droppedBytes: number;
  /** The session's recording budget was spent: this flow keeps its metadata, not its headers or bodies. */
  metadataOnly: boolean;
}

/** Where the proxy sends finished flows. The store implements it; tests may collect into an array. */
export interface FlowSink {
  record(flow: FlowRecord): void;
  /**
   * Calls back once the flows recorded so far are stored (the store: at its next commit, within the
   * event-loop turn). The proxy holds a response's last bytes until then, so that an agent never has a
   * whole response whose flow a crash could lose. Absent: flows count as stored once recorded.
   */
  whenStored?(callback: () => void): void;
}
