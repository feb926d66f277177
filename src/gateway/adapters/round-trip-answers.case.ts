/**
 * The second half of the round-trip suite (see `round-trip.case.ts`): answers, streams and errors that
 * the adapter encodes for a caller must be read back by its own upstream decoder with the same meaning.
 */
import { describe, expect, it } from 'vitest';
import { kindForStatus } from '../protocol/errors.js';
import type { ModelResponse, ProtocolAdapter, StreamPart } from '../protocol/types.js';
import type { RoundTripOptions } from './round-trip.case.js';
import {
  decodeStream,
  encodeContext,
  encodeStream,
  expectValidLifecycle,
  summarize,
} from './stream-helpers.case.js';

export function runAnswerRoundTrips(adapter: ProtocolAdapter, options: RoundTripOptions): void {
  const { skips } = options;
  const skipIf = (feature: keyof RoundTripOptions['skips']) => (skips[feature] ? it.skip : it);

  describe(`${adapter.protocol}: answers survive encode → decode-upstream`, () => {
    const usage = { inputTokens: 1200, outputTokens: 80, cacheRead: 1000 };
    const cases: Array<[string, ModelResponse]> = [
      [
        'text',
        { id: 'r', model: 'm', content: [{ type: 'text', text: 'Done ✅' }], finishReason: 'stop', usage },
      ],
      [
        'text and parallel tool calls',
        {
          id: 'r',
          model: 'm',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool-call', id: 'call_a', name: 'Read', inputJson: '{"path":"a"}' },
            { type: 'tool-call', id: 'call_b', name: 'Read', inputJson: '{"path":"b"}' },
          ],
          finishReason: 'tool-calls',
          usage,
        },
      ],
      [
        'a truncated answer',
        {
          id: 'r',
          model: 'm',
          content: [{ type: 'text', text: 'Once upon' }],
          finishReason: 'length',
          usage,
        },
      ],
      ['a refusal', { id: 'r', model: 'm', content: [], finishReason: 'content-filter', usage }],
    ];
    it.each(cases)('%s', (_name, response) => {
      const decoded = adapter.decodeUpstreamResponse(adapter.encodeResponse(response, encodeContext()));
      expect(decoded.content).toEqual(response.content);
      expect(decoded.finishReason).toBe(response.finishReason);
      expect(decoded.usage).toMatchObject(response.usage);
    });

    it('reports tool calls with a tool stop reason even when the upstream said "stop"', () => {
      const response = cases[1]?.[1] as ModelResponse;
      const decoded = adapter.decodeUpstreamResponse(
        adapter.encodeResponse({ ...response, finishReason: 'stop' }, encodeContext()),
      );
      expect(decoded.finishReason).toBe('tool-calls');
    });

    skipIf('stop-sequence-reported')('the stop sequence that ended the answer', () => {
      const response: ModelResponse = {
        id: 'r',
        model: 'm',
        content: [{ type: 'text', text: 'a' }],
        finishReason: 'stop',
        stopSequence: 'END',
        usage,
      };
      expect(
        adapter.decodeUpstreamResponse(adapter.encodeResponse(response, encodeContext())).stopSequence,
      ).toBe('END');
    });

    it('reasoning', () => {
      const reasoning = options.reasoningPart ?? { type: 'reasoning', text: 'Thinking it over.' };
      const response: ModelResponse = {
        id: 'r',
        model: 'm',
        content: [reasoning, { type: 'text', text: 'Yes.' }],
        finishReason: 'stop',
        usage,
      };
      expect(
        adapter.decodeUpstreamResponse(adapter.encodeResponse(response, encodeContext())).content,
      ).toEqual(response.content);
    });

    it('refuses a body of another protocol with a 502', () => {
      expect(() => adapter.decodeUpstreamResponse({ unexpected: true })).toThrow(/invalid upstream response/);
    });
  });

  describe(`${adapter.protocol}: streams survive encode → SSE in odd chunks → decode`, () => {
    const usage = { inputTokens: 300, outputTokens: 40, cacheRead: 200 };
    const interleaved: StreamPart[] = [
      { type: 'stream-start', id: 'up', model: 'up-model' },
      { type: 'reasoning-start', id: 'r0' },
      { type: 'reasoning-delta', id: 'r0', delta: 'Need two files. ' },
      { type: 'reasoning-delta', id: 'r0', delta: 'Read both.' },
      { type: 'reasoning-end', id: 'r0' },
      { type: 'text-start', id: 't0' },
      { type: 'text-delta', id: 't0', delta: 'Reading «both» 📂' },
      { type: 'text-end', id: 't0' },
      { type: 'tool-input-start', id: 'call_a', name: 'Read' },
      { type: 'tool-input-start', id: 'call_b', name: 'Read' },
      { type: 'tool-input-delta', id: 'call_a', delta: '{"path":' },
      { type: 'tool-input-delta', id: 'call_b', delta: '{"path":"b"}' },
      { type: 'tool-input-delta', id: 'call_a', delta: '"a"}' },
      { type: 'tool-input-end', id: 'call_b' },
      { type: 'tool-input-end', id: 'call_a' },
      { type: 'usage', usage: { inputTokens: 300 } },
      { type: 'finish', finishReason: 'tool-calls', usage },
    ];

    it.each([1, 2, 13, 64])(
      'interleaved parallel tool calls, reasoning and text, in %i-byte chunks',
      (size) => {
        const sse = encodeStream(adapter, interleaved, encodeContext());
        const parts = decodeStream(adapter, new TextEncoder().encode(sse), size);
        expectValidLifecycle(parts);
        const summary = summarize(parts);
        expect(summary).toMatchObject({
          reasoning: 'Need two files. Read both.',
          text: 'Reading «both» 📂',
          finishReason: 'tool-calls',
          usage: { inputTokens: 300, outputTokens: 40, cacheRead: 200 },
        });
        expect(summary.tools).toEqual([
          { id: 'call_a', name: 'Read', input: '{"path":"a"}' },
          { id: 'call_b', name: 'Read', input: '{"path":"b"}' },
        ]);
      },
    );

    it('a stream that ends before its finish becomes an error the caller can see', () => {
      const cut = interleaved.slice(0, 9);
      const parts = decodeStream(
        adapter,
        new TextEncoder().encode(encodeStream(adapter, cut, encodeContext())),
      );
      expectValidLifecycle(parts);
      expect(summarize(parts).error?.message).toMatch(/ended before/);
    });

    it('an upstream error in the middle of a stream reaches the caller with its message', () => {
      const parts: StreamPart[] = [
        ...interleaved.slice(0, 7),
        { type: 'error', status: 429, kind: 'rate-limit', message: 'slow down' },
      ];
      const decoded = decodeStream(
        adapter,
        new TextEncoder().encode(encodeStream(adapter, parts, encodeContext())),
      );
      expectValidLifecycle(decoded);
      expect(summarize(decoded).error).toEqual({ status: 429, message: 'slow down' });
    });
  });

  describe(`${adapter.protocol}: errors keep their status and message`, () => {
    it.each([400, 401, 403, 404, 413, 429, 500, 502, 503, 504, 529])('HTTP %i', (status) => {
      const { status: encodedStatus, body } = adapter.encodeError({ status, message: `failure ${status}` });
      expect(encodedStatus).toBe(status);
      const decoded = adapter.decodeUpstreamError(status, JSON.parse(JSON.stringify(body)));
      expect(decoded).toMatchObject({ status, message: `failure ${status}`, kind: kindForStatus(status) });
    });

    it('reads an error body that is not JSON', () => {
      expect(adapter.decodeUpstreamError(502, '<html>Bad Gateway</html>')).toMatchObject({
        status: 502,
        message: '<html>Bad Gateway</html>',
      });
      expect(adapter.decodeUpstreamError(500, undefined).message).toMatch(/500/);
    });
  });
}
