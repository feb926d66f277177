/**
 * The round-trip suite every protocol adapter runs (Hono's `common.case.test.ts` pattern): what the adapter
 * writes for an upstream of its protocol, it must read back as the same neutral value; what it answers a
 * caller, its own upstream decoder must understand. A protocol that cannot carry something lists it in
 * `skips` with the reason, and the suite skips exactly that check.
 */
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../protocol/errors.js';
import type {
  ContentPart,
  ModelMessage,
  ModelRequest,
  ProtocolAdapter,
  ReasoningPart,
  StreamPart,
} from '../protocol/types.js';
import { runAnswerRoundTrips } from './round-trip-answers.case.js';
import { encodeContext, parseEvents } from './stream-helpers.case.js';

export type RoundTripFeature =
  | 'top-k'
  | 'stop-sequences'
  | 'stop-sequence-reported'
  | 'cache-control'
  | 'tool-result-error-flag'
  | 'image-in-tool-result'
  | 'image-detail'
  | 'reasoning-in-requests'
  | 'reasoning-budget'
  | 'reasoning-effort'
  | 'several-system-parts'
  | 'response-format'
  | 'verbosity';

export interface RoundTripOptions {
  /** Features the protocol cannot carry, each with the reason. */
  skips: Partial<Record<RoundTripFeature, string>>;
  /** The reasoning part as this protocol carries it back (its own signature or encrypted content). */
  reasoningPart?: ReasoningPart;
  /** Bodies this protocol must refuse with a 400, besides the common ones. */
  invalidBodies: unknown[];
}

const longToolName = 'mcp__warren_test_server__a_tool_name_that_is_much_longer_than_sixty_four_characters';

function baseRequest(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'caller-model',
    system: [{ type: 'text', text: 'You are terse.' }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello 👋' }] }],
    tools: [],
    stream: false,
    ...overrides,
  };
}

const toolConversation: ModelMessage[] = [
  { role: 'user', content: [{ type: 'text', text: 'List files, then grep.' }] },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Running both.' },
      { type: 'tool-call', id: 'call_1', name: 'Bash', inputJson: '{"command":"ls"}' },
      { type: 'tool-call', id: 'call_2', name: 'Grep', inputJson: '{"pattern":"TODO","path":"."}' },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: 'a.ts\nb.ts' }] },
      { type: 'tool-result', toolCallId: 'call_2', content: [{ type: 'text', text: 'no matches' }] },
      { type: 'text', text: 'Now summarise.' },
    ],
  },
  { role: 'assistant', content: [{ type: 'text', text: 'Two files, no TODOs.' }] },
];

const tools = [
  {
    name: 'Bash',
    description: 'Run a command',
    inputSchema: { type: 'object', properties: { command: { type: 'string' } } },
  },
  {
    name: 'Grep',
    inputSchema: { type: 'object', properties: { pattern: { type: 'string' } }, required: ['pattern'] },
  },
];

/** Drops differences without meaning, and the ones a protocol declares in `skips`. */
function normalize(request: ModelRequest, skips: RoundTripOptions['skips']): ModelRequest {
  const copy = structuredClone(request);
  delete copy.streamIncludeUsage;
  // No choice and `auto` mean the same; Anthropic needs an explicit `auto` to carry disable_parallel_tool_use.
  if (copy.toolChoice?.type === 'auto') delete copy.toolChoice;
  if (skips['image-detail']) {
    for (const message of copy.messages) {
      for (const part of message.content) stripDetail(part);
    }
  }
  return copy;
}

function stripDetail(part: ContentPart): void {
  if (part.type === 'image') delete part.detail;
  if (part.type === 'tool-result') for (const item of part.content) stripDetail(item);
}

export function runRoundTripSuite(adapter: ProtocolAdapter, options: RoundTripOptions): void {
  const { skips } = options;
  const skipIf = (feature: RoundTripFeature) => (skips[feature] ? it.skip : it);

  function throughUpstream(request: ModelRequest): ModelRequest {
    const upstream = adapter.buildUpstreamRequest(request, 'caller-model');
    return adapter.parseRequest(JSON.parse(JSON.stringify(upstream.body)));
  }

  function expectRequestRoundTrip(request: ModelRequest): void {
    expect(normalize(throughUpstream(request), skips)).toEqual(normalize(request, skips));
  }

  describe(`${adapter.protocol}: requests survive build-upstream → parse`, () => {
    it('text, sampling options and metadata', () => {
      expectRequestRoundTrip(
        baseRequest({
          maxTokens: 1000,
          temperature: 0.5,
          topP: 0.9,
          stream: true,
          metadata: { userId: 'user-7' },
        }),
      );
    });

    it('a tool conversation with parallel calls, results and a forced tool choice', () => {
      expectRequestRoundTrip(
        baseRequest({ messages: toolConversation, tools, toolChoice: { type: 'required' }, maxTokens: 100 }),
      );
      for (const toolChoice of [
        { type: 'auto' },
        { type: 'none' },
        { type: 'tool', name: 'Grep' },
      ] as const) {
        expectRequestRoundTrip(
          baseRequest({ messages: toolConversation, tools, toolChoice, maxTokens: 100 }),
        );
      }
      expectRequestRoundTrip(
        baseRequest({ messages: toolConversation, tools, parallelToolCalls: false, maxTokens: 100 }),
      );
    });

    it('images as base64 and as URLs', () => {
      expectRequestRoundTrip(
        baseRequest({
          maxTokens: 100,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is in these?' },
                { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } },
                { type: 'image', source: { kind: 'url', url: 'https://example.invalid/cat.jpg' } },
              ],
            },
          ],
        }),
      );
    });

    skipIf('stop-sequences')('stop sequences', () => {
      expectRequestRoundTrip(baseRequest({ maxTokens: 100, stopSequences: ['END', '\n\n'] }));
    });

    skipIf('response-format')('a JSON response format, with and without a schema', () => {
      expectRequestRoundTrip(baseRequest({ maxTokens: 100, responseFormat: { type: 'json' } }));
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      expectRequestRoundTrip(
        baseRequest({
          maxTokens: 100,
          responseFormat: { type: 'json', schema, name: 'answer', strict: true },
        }),
      );
    });

    it('fields the neutral model has no place for, between two ends of this protocol', () => {
      const options = { seed: 7, logit_bias: { '50256': -100 }, some_future_field: { nested: [1, 2] } };
      expectRequestRoundTrip(
        baseRequest({ maxTokens: 100, providerOptions: { protocol: adapter.protocol, options } }),
      );
      const other = adapter.protocol === 'openai-chat' ? 'anthropic-messages' : 'openai-chat';
      const body = adapter.buildUpstreamRequest(
        baseRequest({ providerOptions: { protocol: other, options } }),
        'm',
      ).body;
      expect(JSON.stringify(body)).not.toContain('some_future_field');
    });

    it("a service tier in its own protocol's words", () => {
      const value = adapter.protocol === 'anthropic-messages' ? 'standard_only' : 'flex';
      expectRequestRoundTrip(
        baseRequest({ maxTokens: 100, serviceTier: { protocol: adapter.protocol, value } }),
      );
    });

    skipIf('verbosity')('a verbosity', () => {
      expectRequestRoundTrip(baseRequest({ maxTokens: 100, verbosity: 'low' }));
    });

    skipIf('top-k')('top_k', () => expectRequestRoundTrip(baseRequest({ maxTokens: 100, topK: 40 })));

    skipIf('several-system-parts')('several system parts', () => {
      expectRequestRoundTrip(
        baseRequest({
          maxTokens: 100,
          system: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        }),
      );
    });

    skipIf('cache-control')('prompt-caching markers', () => {
      expectRequestRoundTrip(
        baseRequest({
          maxTokens: 100,
          system: [{ type: 'text', text: 'Long prompt', cacheControl: { type: 'ephemeral' } }],
          tools: [{ ...(tools[0] as (typeof tools)[0]), cacheControl: { type: 'ephemeral', ttl: '1h' } }],
        }),
      );
    });

    skipIf('tool-result-error-flag')('a failed tool result keeps its error flag', () => {
      const messages = structuredClone(toolConversation);
      const result = messages[2]?.content[0];
      if (result?.type === 'tool-result') result.isError = true;
      expectRequestRoundTrip(baseRequest({ messages, tools, maxTokens: 100 }));
    });

    skipIf('image-in-tool-result')('a tool result with text and an image', () => {
      const messages = structuredClone(toolConversation);
      const result = messages[2]?.content[0];
      if (result?.type === 'tool-result') {
        result.content.push({
          type: 'image',
          source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
        });
      }
      expectRequestRoundTrip(baseRequest({ messages, tools, maxTokens: 100 }));
    });

    skipIf('reasoning-in-requests')('reasoning in the history', () => {
      const messages = structuredClone(toolConversation);
      messages[1]?.content.unshift(options.reasoningPart as ReasoningPart);
      expectRequestRoundTrip(baseRequest({ messages, tools, maxTokens: 100 }));
    });

    skipIf('reasoning-budget')('a thinking budget', () => {
      expectRequestRoundTrip(baseRequest({ maxTokens: 20000, reasoning: { budgetTokens: 4096 } }));
    });

    skipIf('reasoning-effort')('a reasoning effort', () => {
      expectRequestRoundTrip(baseRequest({ maxTokens: 100, reasoning: { effort: 'high' } }));
    });

    it('shortens tool names over 64 characters for the upstream and restores them in its answer', () => {
      const request = baseRequest({
        maxTokens: 100,
        tools: [{ name: longToolName, inputSchema: { type: 'object' } }],
        toolChoice: { type: 'tool', name: longToolName },
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'go' }] },
          {
            role: 'assistant',
            content: [{ type: 'tool-call', id: 'call_9', name: longToolName, inputJson: '{}' }],
          },
          {
            role: 'user',
            content: [{ type: 'tool-result', toolCallId: 'call_9', content: [{ type: 'text', text: 'ok' }] }],
          },
        ],
      });
      const upstream = adapter.buildUpstreamRequest(request, 'upstream-model');
      const text = JSON.stringify(upstream.body);
      expect(text).not.toContain(longToolName);
      const parsed = adapter.parseRequest(upstream.body);
      for (const tool of parsed.tools) expect(tool.name.length).toBeLessThanOrEqual(64);
      const shortName = parsed.tools[0]?.name as string;
      expect(upstream.toolNames.fromUpstream(shortName)).toBe(longToolName);
      // The upstream answers with the short name; the caller must see its own.
      const answer = adapter.encodeResponse(
        {
          id: 'x',
          model: 'm',
          finishReason: 'tool-calls',
          usage: { inputTokens: 1, outputTokens: 1 },
          content: [{ type: 'tool-call', id: 'call_10', name: shortName, inputJson: '{}' }],
        },
        encodeContext(),
      );
      const decoded = adapter.decodeUpstreamResponse(answer, { toolNames: upstream.toolNames });
      expect(decoded.content).toEqual([
        { type: 'tool-call', id: 'call_10', name: longToolName, inputJson: '{}' },
      ]);
      const streamed = adapter.createStreamEncoder(encodeContext());
      const sse =
        streamed.encode({ type: 'tool-input-start', id: 'call_11', name: shortName }) +
        streamed.encode({ type: 'tool-input-end', id: 'call_11' }) +
        streamed.encode({
          type: 'finish',
          finishReason: 'tool-calls',
          usage: { inputTokens: 1, outputTokens: 1 },
        });
      const decoder = adapter.createStreamDecoder({ toolNames: upstream.toolNames });
      const names = decodeEvents(sse, decoder).flatMap((part) =>
        part.type === 'tool-input-start' ? [part.name] : [],
      );
      expect(names).toEqual([longToolName]);
    });

    it.each([null, 42, 'text', {}, ...options.invalidBodies])(
      'refuses an invalid body with a 400 naming the field (%j)',
      (body) => {
        let thrown: unknown;
        try {
          adapter.parseRequest(body);
        } catch (error) {
          thrown = error;
        }
        expect(isGatewayError(thrown), `no GatewayError for ${JSON.stringify(body)}`).toBe(true);
        if (isGatewayError(thrown)) {
          expect(thrown.status).toBe(400);
          expect(thrown.message).toMatch(/^[\w.[\]]+: /);
        }
      },
    );
  });

  runAnswerRoundTrips(adapter, options);
}

function decodeEvents(
  sse: string,
  decoder: ReturnType<ProtocolAdapter['createStreamDecoder']>,
): StreamPart[] {
  return [...parseEvents(sse).flatMap((event) => decoder.decode(event)), ...decoder.end()];
}
