import type { Header } from './flow.js';

/**
 * Hooks around one forwarded request, set per session (`ProxySession.hooks`) by the owner of the session.
 * They run only for requests the host policy allowed and the proxy can read (plain HTTP, or HTTPS it
 * intercepts), after the decision and before connecting upstream. Two users: the download cache
 * (cache.ts: answer from disk, keep immutable downloads) and the secret swap (secrets.ts: put real
 * credentials in place of placeholders, refuse placeholders bound for other hosts).
 */
export interface ForwardHook {
  /** For logs and flows: "download-cache", "secrets". */
  readonly name: string;
  beforeForward?(exchange: HookExchange): HookDecision | Promise<HookDecision>;
  /** Upstream answered: return a sink to receive the body as it streams to the client, or undefined. */
  onResponse?(exchange: HookExchange, response: HookResponse): BodySink | undefined;
}

export interface HookExchange {
  sessionId: string;
  method: string;
  /** Absolute URL as recorded in the flow. */
  url: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Path and query as sent upstream. */
  path: string;
  /** Node rawHeaders of the request (name, value, name, value…), after earlier hooks' rewrites. */
  rawHeaders: readonly string[];
}

export interface HookResponse {
  status: number;
  rawHeaders: readonly string[];
}

export type HookDecision =
  /** Go on upstream, with these headers instead of the request's when given; `note` is added to the flow. */
  | { kind: 'continue'; rawHeaders?: string[]; note?: string }
  /** Answer from Warren without contacting the upstream (e.g. a cached download, streamed from `bodyFile`). */
  | {
      kind: 'answer';
      status: number;
      statusText: string;
      headers: Header[];
      body: Buffer | { file: string };
      note: string;
    }
  /** Refuse with 403: the flow's policy becomes a deny with this rule and reason. */
  | { kind: 'refuse'; rule: string; reason: string };

export interface BodySink {
  write(chunk: Buffer): void;
  /** `complete`: the whole body arrived (upstream finished and the client got it all). */
  end(complete: boolean): void;
}

export type ForwardPlan =
  | { kind: 'continue'; rawHeaders: readonly string[]; notes: string[] }
  | Exclude<HookDecision, { kind: 'continue' }>;

/** Runs the hooks in order; the first answer or refusal wins, rewrites accumulate. A hook that throws refuses. */
export async function planForward(
  hooks: readonly ForwardHook[],
  exchange: HookExchange,
): Promise<ForwardPlan> {
  let rawHeaders = exchange.rawHeaders;
  const notes: string[] = [];
  for (const hook of hooks) {
    if (!hook.beforeForward) continue;
    let decision: HookDecision;
    try {
      decision = await hook.beforeForward({ ...exchange, rawHeaders });
    } catch (error) {
      return { kind: 'refuse', rule: hook.name, reason: `the ${hook.name} check failed (${String(error)})` };
    }
    if (decision.kind !== 'continue') return decision;
    if (decision.rawHeaders) rawHeaders = decision.rawHeaders;
    if (decision.note) notes.push(decision.note);
  }
  return { kind: 'continue', rawHeaders, notes };
}

/** One sink that feeds every hook's sink; a sink that throws is dropped rather than breaking the response. */
export function responseSinks(
  hooks: readonly ForwardHook[],
  exchange: HookExchange,
  response: HookResponse,
): BodySink | undefined {
  const sinks: BodySink[] = [];
  for (const hook of hooks) {
    try {
      const sink = hook.onResponse?.(exchange, response);
      if (sink) sinks.push(sink);
    } catch {
      // A hook that cannot take the body (e.g. the cache folder is gone) must not fail the download.
    }
  }
  if (sinks.length === 0) return undefined;
  let ended = false;
  return {
    write(chunk) {
      for (const sink of sinks) {
        try {
          sink.write(chunk);
        } catch {
          // see above
        }
      }
    },
    end(complete) {
      if (ended) return;
      ended = true;
      for (const sink of sinks) {
        try {
          sink.end(complete);
        } catch {
          // see above
        }
      }
    },
  };
}
