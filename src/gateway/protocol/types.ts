/**
 * The neutral model of the gateway: every protocol adapter translates its wire format to and from these
 * types, so that N protocols need 2N small functions instead of N² translators.
 *
 * Conventions:
 * - Tool-call arguments are kept as JSON *text* (`inputJson`), because OpenAI streams and stores them as
 *   text that may be partial or even invalid; Anthropic's objects are stringified on the way in.
 * - Tool results live in `user` messages (Anthropic's model); the OpenAI adapters split them into
 *   `tool` messages / `function_call_output` items on the way out.
 * - Stream parts follow vercel/ai's `<noun>-<verb>` naming; errors are parts, not exceptions.
 * - Between two ends of one protocol nothing is lost: what has no neutral form travels verbatim, tagged
 *   with its protocol (`providerOptions`, `ToolDefinition.original`/`providerDefined`, `ProviderPart` and
 *   `provider-*` stream parts, `rawFinishReason`), and is dropped for the other protocols.
 */

export type ApiProtocol = 'anthropic-messages' | 'openai-chat' | 'openai-responses';

/** Anthropic prompt-caching marker; carried through only to Anthropic upstreams. */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: string;
}

export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
}

export type ImageSource = { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };

export interface ImagePart {
  type: 'image';
  source: ImageSource;
  /** OpenAI's `detail` hint (`low`, `high`, `auto`). */
  detail?: string;
  cacheControl?: CacheControl;
}

export interface ToolCallPart {
  type: 'tool-call';
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as received (may be `""` for no arguments). */
  inputJson: string;
  cacheControl?: CacheControl;
}

export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  /** Text and images; a plain string result becomes one text part. */
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
  cacheControl?: CacheControl;
}

export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  /** Anthropic's thinking signature; required to send thinking back to Anthropic. */
  signature?: string;
  /** Anthropic `redacted_thinking.data`: opaque, passed back to Anthropic as is. */
  redactedData?: string;
  /** OpenAI Responses `encrypted_content` and the reasoning item's id: passed back to OpenAI as is. */
  encryptedContent?: string;
  itemId?: string;
}

/**
 * A block only its own protocol understands (Anthropic server-tool use and results such as web search,
 * MCP connector blocks, future block types): passed verbatim between two ends of that protocol, dropped
 * for the others, which could do nothing with it.
 */
export interface ProviderPart {
  type: 'provider';
  protocol: ApiProtocol;
  data: Record<string, unknown>;
}

export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart | ProviderPart;

export interface ModelMessage {
  /**
   * `system`: instructions placed inside the conversation (Claude Code's environment message). Kept in
   * place for Anthropic, a `developer` item for Responses, appended to the system message for chat.
   */
  role: 'user' | 'assistant' | 'system';
  content: ContentPart[];
  /**
   * Fields of the message the neutral model has no place for (Claude Code puts an `output_config` on its
   * system message): sent verbatim to upstreams of the caller's protocol, dropped for others.
   */
  providerOptions?: { protocol: ApiProtocol; options: Record<string, unknown> };
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  inputSchema: Record<string, unknown>;
  cacheControl?: CacheControl;
  /**
   * A provider's own tool (Anthropic `web_search_20250305`, OpenAI `web_search`, ...), kept verbatim: sent
   * only to upstreams of the same protocol and dropped for others, which could not run it anyway.
   */
  providerDefined?: { protocol: ApiProtocol; definition: Record<string, unknown> };
  /**
   * An OpenAI `custom` tool (free-text input, e.g. Codex's `apply_patch`), kept verbatim for OpenAI
   * Responses upstreams. Everywhere else it is a function whose `inputSchema` takes `{input: string}`, and
   * its calls carry `{"input": "..."}` as `inputJson`.
   */
  freeform?: Record<string, unknown>;
  /**
   * The caller's definition as sent, for upstreams of the same protocol: keeps fields the neutral model
   * has no place for (Anthropic `defer_loading`, OpenAI `strict`). The name may still be shortened.
   */
  original?: { protocol: ApiProtocol; definition: Record<string, unknown> };
}

/** `required` is Anthropic's `any`; `tool` forces one named tool. */
export type ToolChoice =
  { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

/**
 * The reasoning efforts the current APIs document, lowest first: OpenAI's `reasoning_effort` /
 * `reasoning.effort` take all of them (`none` turns reasoning off); Anthropic's `output_config.effort`
 * takes `low` to `max`. Other strings are accepted too (a newer client may know newer values): they go
 * to OpenAI upstreams as written and are dropped, with a note, for Anthropic ones.
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** Present when the caller said anything about reasoning; an empty object means "reason", nothing more. */
export interface ReasoningOptions {
  /** Anthropic `thinking.budget_tokens`. */
  budgetTokens?: number;
  /** OpenAI `reasoning_effort` / `reasoning.effort`, or Anthropic `output_config.effort`. */
  effort?: ReasoningEffort | (string & {});
  /**
   * Anthropic's `thinking.type` when it is not a budget: `disabled` (no thinking), `adaptive` or
   * `between_tools` (the model decides), or a type this gateway does not know yet.
   */
  thinking?: 'disabled' | 'adaptive' | 'between_tools' | (string & {});
}

export interface ModelRequest {
  /** The model name as the caller wrote it (the router maps it to an upstream model). */
  model: string;
  /** System / developer instructions, in order. Empty array means none. */
  system: TextPart[];
  messages: ModelMessage[];
  /** Empty array means no tools. */
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** `false` forbids parallel tool calls; undefined leaves the provider default. */
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  /** Present when the caller asked for extended thinking / reasoning. */
  reasoning?: ReasoningOptions;
  stream: boolean;
  /** OpenAI chat `stream_options.include_usage`: the caller wants a trailing usage chunk. */
  streamIncludeUsage?: boolean;
  metadata?: { userId?: string };
  /** The caller wants JSON (OpenAI `response_format` / Responses `text.format`); absent means text. */
  responseFormat?: ResponseFormat;
  /** OpenAI `verbosity` (chat) / `text.verbosity` (Responses): `low`, `medium` or `high`. */
  verbosity?: string;
  /**
   * The caller's `service_tier` as its protocol spells it: OpenAI `auto`, `default`, `flex`, `scale`,
   * `priority`; Anthropic `auto`, `standard_only`. Each builder maps it to its own protocol's values.
   */
  serviceTier?: { protocol: ApiProtocol; value: string };
  /**
   * Top-level fields the neutral model has no place for (`seed`, `service_tier`, Anthropic
   * `context_management`, ...): sent verbatim to upstreams of the caller's protocol, dropped for others.
   */
  providerOptions?: { protocol: ApiProtocol; options: Record<string, unknown> };
}

export interface ResponseFormat {
  type: 'json';
  /** A JSON Schema the answer must match; absent means any JSON object. */
  schema?: Record<string, unknown>;
  name?: string;
  strict?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

/**
 * OpenAI's accounting: `inputTokens` counts every input token, cached ones included (Anthropic's
 * `input_tokens` + cache reads + cache writes); `outputTokens` includes reasoning tokens.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoningTokens?: number;
}

export interface ModelResponse {
  id: string;
  /** The upstream's model name as it reported it (the encoder echoes the caller's name instead). */
  model: string;
  /** Assistant content: text, reasoning and tool-call parts. */
  content: ContentPart[];
  finishReason: FinishReason;
  /** The stop sequence that ended generation, when the upstream says so. */
  stopSequence?: string;
  /** The upstream's own stop reason (`pause_turn`, `model_context_window_exceeded`), for callers of its protocol. */
  rawFinishReason?: RawFinishReason;
  usage: Usage;
}

export interface RawFinishReason {
  protocol: ApiProtocol;
  value: string;
}

/**
 * One event of a neutral stream. Every `*-start` is followed by zero or more `*-delta` with the same id and
 * exactly one `*-end`; a stream ends with exactly one `finish` or one `error`.
 */
export type StreamPart =
  | { type: 'stream-start'; id: string; model: string; usage?: Partial<Usage> }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | { type: 'reasoning-start'; id: string; redactedData?: string }
  | { type: 'reasoning-delta'; id: string; delta: string }
  | { type: 'reasoning-end'; id: string; signature?: string; encryptedContent?: string; itemId?: string }
  | { type: 'tool-input-start'; id: string; name: string }
  | { type: 'tool-input-delta'; id: string; delta: string }
  | { type: 'tool-input-end'; id: string }
  | { type: 'provider-start'; id: string; protocol: ApiProtocol; data: Record<string, unknown> }
  /** A delta only the block's protocol understands: for a provider block, or a text block (citations). */
  | { type: 'provider-delta'; id: string; data: Record<string, unknown> }
  | { type: 'provider-end'; id: string }
  | { type: 'usage'; usage: Partial<Usage> }
  | {
      type: 'finish';
      finishReason: FinishReason;
      usage: Usage;
      stopSequence?: string;
      rawFinishReason?: RawFinishReason;
    }
  | { type: 'error'; status?: number; message: string; kind?: GatewayErrorKind };

export type GatewayErrorKind =
  | 'invalid-request'
  | 'authentication'
  | 'permission'
  | 'not-found'
  | 'request-too-large'
  | 'rate-limit'
  | 'timeout'
  | 'overloaded'
  | 'upstream'
  | 'internal';

export interface GatewayErrorInfo {
  status: number;
  message: string;
  /** Derived from `status` when absent. */
  kind?: GatewayErrorKind;
  /** The offending request field, when known (OpenAI's `param`). */
  param?: string;
}

/** One Server-Sent Event as parsed from the wire. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

export interface SseParser {
  /** Feed raw bytes (or text); returns the events completed by this chunk. */
  push(chunk: Uint8Array | string): SseEvent[];
  /** Flush at end of input; returns a last event left without its blank line, if any. */
  end(): SseEvent[];
}

export interface EncodeContext {
  /** The request as the caller sent it (parsed); the encoder echoes its model name and options. */
  request: ModelRequest;
  /** Fixed ids and clock for reproducible output (tests); generated when absent. */
  responseId?: string;
  createdAt?: number;
}

export interface StreamEncoder {
  /** SSE text for one part ("" when the part produces nothing in this protocol). */
  encode(part: StreamPart): string;
  /** SSE text to close the stream; closes open blocks and reports an error if no `finish` came. */
  end(): string;
}

/** Reversible mapping between the caller's tool names and names the upstream accepts (64 chars). */
export interface ToolNameMap {
  toUpstream(name: string): string;
  fromUpstream(name: string): string;
}

export interface UpstreamRequest {
  /** Path relative to the provider's base URL, e.g. `/v1/messages` or `/chat/completions`. */
  path: string;
  body: unknown;
  /** Pass to the decoder so shortened tool names come back as the caller wrote them. */
  toolNames: ToolNameMap;
  /**
   * What the translation changed or left out for want of an equivalent upstream (`service_tier "flex"
   * not sent: Anthropic has no such tier`), recorded with the call. Absent when nothing was.
   */
  notes?: string[];
}

export interface DecodeContext {
  toolNames?: ToolNameMap;
}

export interface StreamDecoder {
  decode(event: SseEvent): StreamPart[];
  /** At end of input: `finish` if the upstream finished, else an `error` part (stream ended early). */
  end(): StreamPart[];
}

export interface ProtocolAdapter {
  protocol: ApiProtocol;
  // Downstream side: what a client sent us / what we answer.
  /** Throws GatewayError (status 400) on invalid input. */
  parseRequest(body: unknown): ModelRequest;
  encodeResponse(response: ModelResponse, context: EncodeContext): unknown;
  createStreamEncoder(context: EncodeContext): StreamEncoder;
  encodeError(error: GatewayErrorInfo): { status: number; body: unknown };
  // Upstream side: what we send a provider of this protocol / what it answers.
  buildUpstreamRequest(request: ModelRequest, upstreamModel: string): UpstreamRequest;
  /** Throws GatewayError (status 502) when the body is not a response of this protocol. */
  decodeUpstreamResponse(body: unknown, context?: DecodeContext): ModelResponse;
  createStreamDecoder(context?: DecodeContext): StreamDecoder;
  /** Reads an upstream error body of this protocol into neutral form (message falls back to the status). */
  decodeUpstreamError(status: number, body: unknown): GatewayErrorInfo;
}

/**
 * Per model entry: rewrite Claude identity lines to name the real model (`default`), leave them (`off`),
 * or replace them with custom text. The router never applies it for Anthropic upstreams.
 */
export type IdentitySetting = { mode: 'default' } | { mode: 'off' } | { mode: 'custom'; text: string };
