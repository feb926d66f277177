import { describe, expect, it } from 'vitest';
import { parseIdentitySetting, rewriteIdentity, rewriteIdentityText } from './identity.js';
import type { ModelRequest } from './types.js';

const claudeCodeSystem = [
  { type: 'text' as const, text: "You are Claude Code, Anthropic's official CLI for Claude." },
  {
    type: 'text' as const,
    text:
      'You are an interactive CLI tool that helps users with software engineering tasks.\n' +
      'You are powered by the model named Sonnet 4.5. The exact model ID is claude-sonnet-4-5-20250929.\n' +
      'Assistant knowledge cutoff is January 2025.',
  },
];

function request(): ModelRequest {
  return { model: 'claude-sonnet-4-5', system: claudeCodeSystem, messages: [], tools: [], stream: true };
}

describe('rewriteIdentity', () => {
  it("rewrites Claude Code's identity lines to name the real model", () => {
    const rewritten = rewriteIdentity(request(), 'qwen3-coder', { mode: 'default' });
    const text = rewritten.system.map((part) => part.text).join('\n');
    expect(text).not.toMatch(/You are Claude Code, Anthropic's official CLI/);
    expect(text).toContain('You are qwen3-coder, the model running as the agent inside Claude Code');
    expect(text).toContain('You are powered by the model qwen3-coder.');
    expect(text).not.toContain('claude-sonnet-4-5-20250929');
    expect(text).toContain('You are an interactive CLI tool'); // the rest stays
  });

  it('leaves the request alone when set off, and does not change its input', () => {
    const original = request();
    expect(rewriteIdentity(original, 'gpt-5', { mode: 'off' })).toBe(original);
    rewriteIdentity(original, 'gpt-5', { mode: 'default' });
    expect(original.system[0]?.text).toBe("You are Claude Code, Anthropic's official CLI for Claude.");
  });

  it('uses custom text in place of identity lines', () => {
    const rewritten = rewriteIdentity(request(), 'gpt-5', {
      mode: 'custom',
      text: 'You are the house model.',
    });
    expect(rewritten.system[0]?.text).toBe('You are the house model.');
  });

  it('rewrites the Agent SDK line and generic "You are Claude" lines but not unrelated mentions', () => {
    expect(rewriteIdentityText("You are a Claude agent, built on Anthropic's Claude Agent SDK.", 'm')).toBe(
      "You are m, running as an agent built on Anthropic's Claude Agent SDK.",
    );
    expect(rewriteIdentityText('The assistant is Claude, created by Anthropic.', 'm')).toBe(
      'The assistant is m.',
    );
    expect(rewriteIdentityText('You are Claude, a helpful assistant.', 'm')).toBe(
      'You are m, a helpful assistant.',
    );
    expect(rewriteIdentityText('Ask Claude Code about CLAUDE.md files.', 'm')).toBe(
      'Ask Claude Code about CLAUDE.md files.',
    );
  });

  it('reads the per-model setting', () => {
    expect(parseIdentitySetting(undefined)).toEqual({ mode: 'default' });
    expect(parseIdentitySetting('off')).toEqual({ mode: 'off' });
    expect(parseIdentitySetting(false)).toEqual({ mode: 'off' });
    expect(parseIdentitySetting('You are X.')).toEqual({ mode: 'custom', text: 'You are X.' });
    expect(() => parseIdentitySetting(42)).toThrow(/warren.identity/);
  });
});
