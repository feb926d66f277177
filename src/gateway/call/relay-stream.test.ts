import { describe, expect, it } from 'vitest';
import { responseOfParts } from './collect-stream.js';
import { partsOfResponse } from './relay-stream.js';
import type { ModelResponse } from '../protocol/types.js';

const response: ModelResponse = {
  id: 'msg_1',
  model: 'm',
  content: [
    { type: 'reasoning', text: 'think', signature: 'sig', itemId: 'rs_1' },
    { type: 'text', text: 'héllo 🦊' },
    { type: 'tool-call', id: 'call_1', name: 'f', inputJson: '{"a":1}' },
    { type: 'tool-call', id: 'call_2', name: 'g', inputJson: '' },
    { type: 'provider', protocol: 'anthropic-messages', data: { type: 'server_tool_use', id: 'srv_1' } },
  ],
  finishReason: 'tool-calls',
  stopSequence: 'END',
  usage: { inputTokens: 12, outputTokens: 34, cacheRead: 5 },
};

describe('whole answers and streams', () => {
  it('replays an answer as a well-formed stream and folds it back unchanged', () => {
    const parts = partsOfResponse(response);
    expect(parts[0]).toMatchObject({ type: 'stream-start', id: 'msg_1', usage: { inputTokens: 12 } });
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'tool-calls',
      usage: response.usage,
      stopSequence: 'END',
    });
    // Every block that starts also ends.
    const starts = parts.filter(
      (part) => part.type.endsWith('-start') && part.type !== 'stream-start',
    ).length;
    expect(parts.filter((part) => part.type.endsWith('-end')).length).toBe(starts);
    expect(responseOfParts(parts)).toEqual(response);
  });

  it('turns an error part into a GatewayError with its status', () => {
    expect(() =>
      responseOfParts([
        { type: 'stream-start', id: 'x', model: 'm' },
        { type: 'error', status: 529, message: 'Overloaded', kind: 'overloaded' },
      ]),
    ).toThrow(expect.objectContaining({ status: 529, message: 'Overloaded' }));
  });
});
