import { readFileSync } from 'node:fs';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { estimateTextTokens, estimateTokens } from './estimate-tokens.js';
import type { ModelRequest } from './types.js';

function request(overrides: Partial<ModelRequest>): ModelRequest {
  return { model: 'm', system: [], messages: [], tools: [], stream: false, ...overrides };
}

describe('estimateTokens', () => {
  it('lands near real tokenizer counts for English prose', () => {
    // o200k counts 37 tokens here.
    const text =
      'The quick brown fox jumps over the lazy dog. Warren runs every agent session in an ephemeral ' +
      'sandbox with no network but loopback, and its only way out is the egress proxy.';
    const estimate = estimateTextTokens(text);
    expect(estimate).toBeGreaterThanOrEqual(34);
    expect(estimate).toBeLessThanOrEqual(52);
  });

  it('counts code symbols and CJK characters individually', () => {
    expect(estimateTextTokens('a(b)')).toBe(4);
    expect(estimateTextTokens('世界')).toBe(2);
    expect(estimateTextTokens('🦀')).toBe(1);
  });

  it('is never 0 for a non-empty request and grows with content, tools and images', () => {
    const base = request({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    const small = estimateTokens(base);
    expect(small).toBeGreaterThan(0);
    const withTool = estimateTokens({
      ...base,
      tools: [
        {
          name: 'Read',
          description: 'Read a file',
          inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
        },
      ],
    });
    expect(withTool).toBeGreaterThan(small);
    const withImage = estimateTokens({
      ...base,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { kind: 'url', url: 'https://example.invalid/a.png' } }],
        },
      ],
    });
    expect(withImage).toBeGreaterThan(1000);
    expect(estimateTokens(request({ system: [{ type: 'text', text: 'x '.repeat(1000) }] }))).toBeGreaterThan(
      500,
    );
  });
});

describe('estimateTextTokens against a real BPE tokenizer (OpenAI o200k)', () => {
  const corpora: Record<string, string> = {
    prose: readFileSync(new URL('../__fixtures__/README.md', import.meta.url), 'utf8'),
    typescript: readFileSync(new URL('../adapters/anthropic/encode-stream.ts', import.meta.url), 'utf8'),
    json: JSON.stringify(
      {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'The absolute path to the file to read' },
          limit: { type: 'number' },
        },
        required: ['file_path'],
        additionalProperties: false,
      },
      null,
      2,
    ),
    sse: readFileSync(new URL('../__fixtures__/openai-chat-parallel-tools.sse', import.meta.url), 'utf8'),
  };

  it.each(Object.keys(corpora))('%s stays within 0.9–1.35× of o200k', (name) => {
    const text = corpora[name] as string;
    const ratio = estimateTextTokens(text) / countO200k(text);
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.35);
  });
});
