/**
 * One record per model call that reached the router, successful or not. The store persists these;
 * tests may collect them into an array.
 */
export interface UsageRecord {
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  /** The sandbox session the call came from, when it came through the egress proxy. */
  sessionId: string | null;
  /** The stored token (id) used, when the caller authenticated with one. */
  tokenId: string | null;
  /** How the caller authenticated. */
  caller: 'master' | 'token' | 'session';
  /** The protocol the caller spoke. */
  protocol: string;
  endpoint: string;
  /** The model name the caller asked for. */
  model: string;
  /** `provider/model` of the deployment that answered last, or null when none was tried. */
  upstream: string | null;
  /** The api_base of that deployment. */
  apiBase: string | null;
  stream: boolean;
  /** HTTP status returned to the caller (200 for a stream that ended in an error event). */
  status: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Total milliseconds until the response was complete. */
  latencyMs: number;
  /** Milliseconds until the first content (text, reasoning or tool input) reached the caller. */
  timeToFirstTokenMs: number | null;
  /** Upstream attempts made (retries and fallbacks included). */
  attempts: number;
  /** What went wrong, when something did. */
  error: string | null;
  /**
   * What the translation changed or left out for want of an equivalent upstream (a service tier, a
   * thinking setting); absent or empty when nothing was.
   */
  notes?: string[];
  /**
   * Another vendor's identity still addressed to the upstream model after the rewrite ("You are Codex,
   * an agent based on GPT-6."), as sentences: a prompt wording the rules do not know. Absent or empty: none.
   */
  identityClaims?: string[];
}

/** Where the gateway sends usage. Must not throw and must be cheap: it runs on the request path. */
export interface UsageSink {
  record(entry: UsageRecord): void;
}
