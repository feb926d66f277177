import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { CertificateAuthority } from './ca.js';
import type { FlowSink } from './flow.js';
import type { ForwardHook } from './hooks.js';
import type { HostPolicy } from './policy.js';
import type { FlowRecorder } from './recorder.js';
import type { RecordingBudget } from './recording-budget.js';
import type { TunnelInfo } from './target.js';
import type { Authorization, LookupFunction } from './decide.js';
import type { UpstreamPool } from './upstream-client.js';

/** One sandbox session as the proxy sees it: the listener its traffic arrives on identifies it. */
export interface ProxySession {
  id: string;
  /** Read for every decision, so the owner may replace it while the session runs. */
  policy: HostPolicy;
  /** NSS key log lines (client-facing and upstream TLS) for decrypting captures of this session. */
  onKeylog?: (line: Buffer) => void;
  /** Run around each allowed, readable request (download cache, secret swap); see hooks.ts. */
  hooks?: readonly ForwardHook[];
}

/** Handles requests meant for the model gateway; it writes the response like any Node request handler. */
export type GatewayHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  session: ProxySession,
) => void;

export interface ProxyLogger {
  warn(message: string): void;
}

export interface EgressProxyOptions {
  ca: CertificateAuthority;
  sink: FlowSink;
  /** Bytes of each body kept in a flow; default 1 MiB. The true size is always kept. */
  bodyCapBytes?: number;
  /** Bytes of headers (request and response together) kept in a flow; default 16 KiB. */
  headerCapBytes?: number;
  /**
   * Bytes of headers and bodies one session (one listener) may store; past it, flows keep their metadata
   * only and count what they left out. Default 256 MiB; 0: metadata only from the start.
   */
  recordingBudgetBytes?: number;
  /** Extra PEM certificates trusted for upstream TLS, on top of system roots and NODE_EXTRA_CA_CERTS. */
  extraTrust?: readonly string[];
  /** Default `dns.promises.lookup`. */
  lookup?: LookupFunction;
  gateway?: GatewayHandler;
  logger?: ProxyLogger;
  /** How long to wait for an upstream to connect and answer with headers; default 60 s (then 504). */
  upstreamTimeoutMs?: number;
  /** How long a CONNECT tunnel may stay silent before its first byte; default 30 s. */
  tunnelFirstByteTimeoutMs?: number;
  /** Environment read for NODE_EXTRA_CA_CERTS; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Everything the handlers of one listener share. Owned by the listener, dropped when it closes. */
export interface ListenerContext {
  session: ProxySession;
  ca: CertificateAuthority;
  sink: FlowSink;
  bodyCapBytes: number;
  /** What this session may still store (recording-budget.ts). */
  recording: RecordingBudget;
  lookup: LookupFunction;
  gateway: GatewayHandler | undefined;
  logger: ProxyLogger;
  upstreamTimeoutMs: number;
  tunnelFirstByteTimeoutMs: number;
  /** Built at the first upstream TLS connection, then shared (see createUpstreamTrust). */
  upstreamTrust: () => SecureContext;
  /** Keep-alive connections to upstreams, per listener (so upstream key log lines belong to one session). */
  pool: UpstreamPool;
  /** CONNECT facts per inner socket (TLS or plain), looked up by the request handlers. */
  tunnels: WeakMap<Duplex, TunnelInfo>;
  /** Parses HTTP inside CONNECT tunnels; never listens itself. */
  innerServer: Server;
  /** Host name the listener answers to, used in URLs of origin-form requests. */
  listenerHost: string;
  /** Sockets to destroy on close. */
  sockets: Set<Duplex>;
  /**
   * The flow in flight on each client socket (a request, a CONNECT or an upgrade), so that a parse error
   * in the middle of a request, or a handler that throws, finishes that flow (see recorder.ts).
   */
  recorders: WeakMap<Duplex, FlowRecorder>;
  /**
   * Decisions for IP-literal destinations (no DNS involved), valid while `session.policy` is the same
   * object: plain-HTTP forwarding to a literal then costs no policy work per request.
   */
  literalDecisions: { policy: HostPolicy | undefined; entries: Map<string, Authorization | null> };
}
