import type { CapturedBody, FlowRecord, Header } from './flow.js';

/**
 * What one session can make Warren store. A client can send a thousand refused requests with 60 KiB of
 * headers each in two seconds; every one of them must stay on record, but not at 60 KiB apiece. So each
 * flow keeps at most `headerCapBytes` of headers (and bounded texts), and once the session has stored
 * `sessionBudgetBytes` of headers and bodies, every later flow keeps only its metadata: method, URL (cut),
 * host, status, decision, sizes, timings, error. Whatever is left out is counted in `flow.recording`.
 */

export interface RecordingLimits {
  /** Bytes of header names and values one flow keeps, request and response together. */
  headerCapBytes: number;
  /** Bytes of headers and bodies one session may store; past it, flows keep their metadata only. */
  sessionBudgetBytes: number;
  /** Bytes of each body a flow keeps (EgressProxyOptions.bodyCapBytes). */
  bodyCapBytes: number;
}

export interface RecordingBudget {
  /** True once the budget is spent: bodies need not even be captured. */
  readonly spent: boolean;
  /** Trims `flow` in place to what the limits allow and records what was left out in `flow.recording`. */
  admit(flow: FlowRecord): void;
}

export const DEFAULT_HEADER_CAP_BYTES = 16 * 1024;
export const DEFAULT_SESSION_BUDGET_BYTES = 256 * 1024 * 1024;

/** Texts every flow keeps bounded, whatever the budget (a URL may be as long as Node's 64 KiB head). */
const TEXT_CAP = { url: 4096, host: 256, reason: 1024, error: 1024 } as const;
/** The same texts once only metadata is kept. */
const METADATA_TEXT_CAP = { url: 256, host: 256, reason: 256, error: 256 } as const;

function headerBytes(headers: readonly Header[]): number {
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length;
  return total;
}

/**
 * Keeps headers in order while they fit in `room`; one that does not fit is left out, smaller ones after it
 * may still fit. Returns what was kept, its size, and the bytes left out.
 */
function capHeaders(
  headers: Header[],
  room: { left: number },
): { kept: Header[]; bytes: number; dropped: number } {
  const total = headerBytes(headers);
  if (total <= room.left) {
    room.left -= total;
    return { kept: headers, bytes: total, dropped: 0 };
  }
  const kept: Header[] = [];
  let bytes = 0;
  for (const header of headers) {
    const size = header[0].length + header[1].length;
    if (size <= room.left) {
      kept.push(header);
      room.left -= size;
      bytes += size;
    }
  }
  return { kept, bytes, dropped: total - bytes };
}

function cut(text: string, cap: number): { text: string; dropped: number } {
  return text.length <= cap ? { text, dropped: 0 } : { text: text.slice(0, cap), dropped: text.length - cap };
}

/** Cuts the texts of `flow` to `caps`; returns the characters left out. */
function capTexts(flow: FlowRecord, caps: typeof TEXT_CAP | typeof METADATA_TEXT_CAP): number {
  const reason = flow.policy.reason;
  const error = flow.error ?? '';
  // The common case, every text short, allocates nothing.
  if (
    flow.url.length <= caps.url &&
    flow.host.length <= caps.host &&
    reason.length <= caps.reason &&
    error.length <= caps.error
  ) {
    return 0;
  }
  const url = cut(flow.url, caps.url);
  const host = cut(flow.host, caps.host);
  flow.url = url.text;
  flow.host = host.text;
  let dropped = url.dropped + host.dropped;
  if (reason.length > caps.reason) {
    flow.policy = { ...flow.policy, reason: reason.slice(0, caps.reason) };
    dropped += reason.length - caps.reason;
  }
  if (error.length > caps.error) {
    flow.error = error.slice(0, caps.error);
    dropped += error.length - caps.error;
  }
  return dropped;
}

/** A body with its bytes left out (size kept); returns it and the bytes that would have been stored. */
function withoutData(body: CapturedBody, bodyCapBytes: number): { body: CapturedBody; dropped: number } {
  const wouldKeep = Math.min(body.size, bodyCapBytes);
  if (body.size === 0) return { body, dropped: 0 };
  return { body: { size: body.size, data: Buffer.alloc(0), truncated: true }, dropped: wouldKeep };
}

export function createRecordingBudget(limits: RecordingLimits): RecordingBudget {
  let used = 0;
  let spent = limits.sessionBudgetBytes <= 0;

  function metadataOnly(flow: FlowRecord): number {
    let dropped = capTexts(flow, METADATA_TEXT_CAP);
    dropped += headerBytes(flow.request.headers);
    flow.request.headers = [];
    const request = withoutData(flow.request.body, limits.bodyCapBytes);
    flow.request.body = request.body;
    dropped += request.dropped;
    if (flow.response) {
      dropped += headerBytes(flow.response.headers);
      const response = withoutData(flow.response.body, limits.bodyCapBytes);
      flow.response = { ...flow.response, headers: [], body: response.body };
      dropped += response.dropped;
    }
    return dropped;
  }

  return {
    get spent() {
      return spent;
    },
    admit(flow) {
      let dropped = capTexts(flow, TEXT_CAP);
      const room = { left: limits.headerCapBytes };
      const request = capHeaders(flow.request.headers, room);
      flow.request.headers = request.kept;
      dropped += request.dropped;
      let size = request.bytes + flow.request.body.data.length;
      if (flow.response) {
        const response = capHeaders(flow.response.headers, room);
        if (response.dropped > 0) flow.response = { ...flow.response, headers: response.kept };
        dropped += response.dropped;
        size += response.bytes + flow.response.body.data.length;
      }
      // The flow that would cross the budget, and every one after it, keeps its metadata only.
      if (!spent && used + size > limits.sessionBudgetBytes) spent = true;
      if (spent) {
        flow.recording = { droppedBytes: dropped + metadataOnly(flow), metadataOnly: true };
        return;
      }
      used += size;
      if (dropped > 0) flow.recording = { droppedBytes: dropped, metadataOnly: false };
    },
  };
}
