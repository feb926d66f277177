import { describe, expect, it } from 'vitest';
import { createToolNameMap, shortenToolName, TOOL_NAME_LIMIT } from './tool-names.js';

const longName = 'mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_that_overflows';

describe('tool name shortening', () => {
  it('leaves names within the limit unchanged', () => {
    const map = createToolNameMap(['Read', 'a'.repeat(64)]);
    expect(map.toUpstream('Read')).toBe('Read');
    expect(map.toUpstream('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('shortens long names to 64 valid characters and restores them', () => {
    const map = createToolNameMap([longName]);
    const short = map.toUpstream(longName);
    expect(short.length).toBe(TOOL_NAME_LIMIT);
    expect(short).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(map.fromUpstream(short)).toBe(longName);
  });

  it('is stable across requests (the same name always shortens the same way)', () => {
    expect(createToolNameMap([longName]).toUpstream(longName)).toBe(shortenToolName(longName));
  });

  it('keeps names with a common 55-character prefix distinct', () => {
    const first = `${longName}_first`;
    const second = `${longName}_second`;
    const map = createToolNameMap([first, second]);
    expect(map.toUpstream(first)).not.toBe(map.toUpstream(second));
    expect(map.fromUpstream(map.toUpstream(second))).toBe(second);
  });

  it('never collides with a short name already in use', () => {
    const taken = shortenToolName(longName);
    const map = createToolNameMap([taken, longName]);
    expect(map.toUpstream(taken)).toBe(taken);
    expect(map.toUpstream(longName)).not.toBe(taken);
    expect(map.fromUpstream(map.toUpstream(longName))).toBe(longName);
    expect(map.fromUpstream(taken)).toBe(taken);
  });

  it('passes unknown names through in both directions', () => {
    const map = createToolNameMap([]);
    expect(map.fromUpstream('whatever')).toBe('whatever');
  });
});
