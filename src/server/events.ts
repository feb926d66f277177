import type { FlowRecord, FlowRecording } from '../proxy/index.js';
import type { SessionEvent } from '../sessions/index.js';
import type { WriterStatus } from '../store/index.js';

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

/**
 * The store's writers: the disk refuses flows or usage (`status.error` set; the records wait in memory)
 * or takes them again. `message` is the line the server logged.
 */
export interface StoreStatusEvent {
  type: 'store-status';
  status: WriterStatus;
  message: string;
}

/** Everything a live view hears about: session life, new flows and the store's health. */
export type ServerEvent =
  SessionEvent | { type: 'flow-recorded'; sessionId: string; flow: FlowSummary } | StoreStatusEvent;

export interface EventHub {
  publish(event: ServerEvent): void;
  subscribe(listener: (event: ServerEvent) => void): () => void;
}

/**
 * In-process fan-out; one listener throwing does not keep the event from the others. The latest
 * store-status of each writer is kept while it reports trouble and replayed to new listeners, so a
 * page opened during an outage shows it too.
 */
export function createEventHub(): EventHub {
  const listeners = new Set<(event: ServerEvent) => void>();
  const troubles = new Map<string, StoreStatusEvent>();
  return {
    publish(event) {
      if (event.type === 'store-status') {
        if (event.status.error !== undefined) troubles.set(event.status.records, event);
        else troubles.delete(event.status.records);
      }
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A broken listener (a closed socket) must not stop the others.
        }
      }
    },
    subscribe(listener) {
      for (const trouble of troubles.values()) {
        try {
          listener(trouble);
        } catch {
          // As in publish.
        }
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
