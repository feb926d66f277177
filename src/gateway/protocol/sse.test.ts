import { describe, expect, it } from 'vitest';
import { createSseParser, formatSseEvent } from './sse.js';
import type { SseEvent } from './types.js';

function parseInChunks(bytes: Uint8Array, sizes: number[]): SseEvent[] {
  const parser = createSseParser();
  const events: SseEvent[] = [];
  let offset = 0;
  let turn = 0;
  while (offset < bytes.length) {
    const size = sizes[turn++ % sizes.length] as number;
    events.push(...parser.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return [...events, ...parser.end()];
}

const encoder = new TextEncoder();

describe('createSseParser', () => {
  it('joins a multi-byte UTF-8 character split across chunks', () => {
    const bytes = encoder.encode('event: delta\ndata: {"text":"héllo 世界 🦀"}\n\n');
    for (const size of [1, 2, 3, 5, 7]) {
      expect(parseInChunks(bytes, [size])).toEqual([{ event: 'delta', data: '{"text":"héllo 世界 🦀"}' }]);
    }
  });

  it('assembles events split at every possible position', () => {
    const text = 'event: a\ndata: 1\n\nevent: b\ndata: 2\n\ndata: [DONE]\n\n';
    const bytes = encoder.encode(text);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const parser = createSseParser();
      const events = [
        ...parser.push(bytes.subarray(0, cut)),
        ...parser.push(bytes.subarray(cut)),
        ...parser.end(),
      ];
      expect(events).toEqual([{ event: 'a', data: '1' }, { event: 'b', data: '2' }, { data: '[DONE]' }]);
    }
  });

  it('accepts CRLF, LF and lone CR line endings, also with CR and LF in different chunks', () => {
    const parser = createSseParser();
    const events = [
      ...parser.push('data: one\r'),
      ...parser.push('\n\r\ndata: two\r\rdata: three\n'),
      ...parser.push('\n'),
    ];
    expect(events).toEqual([{ data: 'one' }, { data: 'two' }, { data: 'three' }]);
  });

  it('joins several data lines, ignores comments and unknown fields, keeps the last id', () => {
    const parser = createSseParser();
    const events = parser.push(': keep-alive\nid: 7\nretry: 100\nfoo: bar\ndata:first\ndata: second\n\n');
    expect(events).toEqual([{ data: 'first\nsecond', id: '7' }]);
  });

  it('dispatches nothing for an event without data lines', () => {
    expect(createSseParser().push('event: ping\n\n')).toEqual([]);
  });

  it('flushes a last event that lacks its blank line at the end of input', () => {
    const parser = createSseParser();
    expect(parser.push('data: {"a":1}\n\ndata: {"b":2}')).toEqual([{ data: '{"a":1}' }]);
    expect(parser.end()).toEqual([{ data: '{"b":2}' }]);
  });

  it('formats frames that it parses back', () => {
    const text =
      formatSseEvent('message_stop', { type: 'message_stop' }) + formatSseEvent(undefined, '[DONE]');
    const parser = createSseParser();
    expect(parser.push(text)).toEqual([
      { event: 'message_stop', data: '{"type":"message_stop"}' },
      { data: '[DONE]' },
    ]);
  });
});
