import type { FlowRecord, FlowRecording } from '../proxy/index.js';
import type { SessionEvent } from '../sessions/index.js';

/** A flow as lists show it: no headers, no bodies. */
export interface FlowSummary {
  seq?: number;
  id: string;
  sessionId: string;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  scheme: string;
  host: string;
  port: number;
  status: number | null;
  requestSize: number;
  responseSize: number;
  decision: 'allow' | 'deny';
  rule?: string;
  reason: string;
  tls: string;
  error?: string;
  /** What the proxy's recording limits left out of this flow (absent: nothing). */
  recording?: FlowRecording;
}

export function summarizeFlow(flow: FlowRecord & { seq?: number }): FlowSummary {
  return {
    ...(flow.seq !== undefined ? { seq: flow.seq } : {}),
    id: flow.id,
    sessionId: flow.sessionId,
    startedAt: flow.startedAt,
    durationMs: flow.durationMs,
    method: flow.method,
    url: flow.url,
    scheme: flow.scheme,
    host: flow.host,
    port: flow.port,
    status: flow.response?.status ?? null,
    requestSize: flow.request.body.size,
    responseSize: flow.response?.body.size ?? 0,
    decision: flow.policy.decision,
    ...(flow.policy.rule !== undefined ? { rule: flow.policy.rule } : {}),
    reason: flow.policy.reason,
    tls: flow.tls.mode,
    ...(flow.error !== undefined ? { error: flow.error } : {}),
    ...(flow.recording !== undefined ? { recording: flow.recording } : {}),
  };
}

/** Everything a live view hears about: session life and new flows. */
export type ServerEvent = SessionEvent | { type: 'flow-recorded'; sessionId: string; flow: FlowSummary };

export interface EventHub {
  publish(event: ServerEvent): void;
  subscribe(listener: (event: ServerEvent) => void): () => void;
}

/** In-process fan-out; one listener throwing does not keep the event from the others. */
export function createEventHub(): EventHub {
  const listeners = new Set<(event: ServerEvent) => void>();
  return {
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A broken listener (a closed socket) must not stop the others.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
