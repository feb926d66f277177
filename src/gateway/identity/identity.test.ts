import { describe, expect, it } from 'vitest';
import type { IdentitySetting, ModelRequest } from '../protocol/types.js';
import { applyIdentity, identityRuleList, vendorOfModel, type IdentityTarget } from './index.js';

function requestWith(system: string[], systemMessage?: string): ModelRequest {
  return {
    model: 'caller-model',
    system: system.map((text) => ({ type: 'text', text })),
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ...(systemMessage
        ? [{ role: 'system' as const, content: [{ type: 'text' as const, text: systemMessage }] }]
        : []),
    ],
    tools: [],
    stream: false,
  };
}

function target(provider: string, model: string, overrides: Partial<IdentityTarget> = {}): IdentityTarget {
  return {
    model,
    vendor: vendorOfModel(provider, model),
    setting: { mode: 'default' },
    statement: false,
    rewrite: provider !== 'anthropic',
    ...overrides,
  };
}

/** The first system part, rewritten for `provider/model` without the statement of identity. */
function rewritten(text: string, provider = 'xai', model = 'grok-4', setting?: IdentitySetting): string {
  return applyIdentity(requestWith([text]), target(provider, model, setting ? { setting } : {})).request
    .system[0]!.text;
}

describe('identity rewrite rules (structure, not exact sentences)', () => {
  it("names the real model in Claude Code's model line, whatever suffix the id carries", () => {
    for (const line of [
      'You are powered by the model named Opus 4.8. The exact model ID is claude-opus-4-8[1m].',
      'You are powered by the model named Opus 5.5. The exact model ID is claude-opus-5-5. Assistant knowledge cutoff is June 2026.',
      'You are powered by the model named Sonnet 4.5. The exact model ID is claude-sonnet-4-5-20250929.',
      'You are powered by the model named claude-sonnet-4-5. The exact model ID is warren/claude-sonnet-4-5',
    ]) {
      expect(rewritten(`Intro.\n${line}\nNext line.`)).toBe(
        'Intro.\nYou are powered by the model grok-4.\nNext line.',
      );
    }
  });

  it('leaves the model line alone when it already names the real model', () => {
    const line = 'You are powered by the model named grok-4. The exact model ID is warren/grok-4';
    expect(rewritten(line)).toBe(line);
    expect(rewritten('You are powered by the model grok-4.')).toBe('You are powered by the model grok-4.');
  });

  it("rewrites Codex's opening lines, old and new, and keeps their full stop", () => {
    expect(rewritten('You are Codex, based on GPT-5. You are running as a coding agent.')).toBe(
      'You are grok-4, the model running as the agent inside Codex, based on grok-4. You are running as a coding agent.',
    );
    expect(
      rewritten(
        "You are Codex, a coding agent based on GPT-5. You and the user share the same workspace and collaborate to achieve the user's goals.",
      ),
    ).toBe(
      "You are grok-4, the model running as the agent inside Codex, a coding agent based on grok-4. You and the user share the same workspace and collaborate to achieve the user's goals.",
    );
    expect(rewritten('You are Codex, an agent based on GPT-6. You and the user share a workspace.')).toBe(
      'You are grok-4, the model running as the agent inside Codex, an agent based on grok-4. You and the user share a workspace.',
    );
    expect(rewritten('As Codex, you are a curious, thoughtful collaborator.')).toBe(
      'As the agent inside Codex, you are a curious, thoughtful collaborator.',
    );
  });

  it("rewrites Claude Code's and the Agent SDK's opening lines", () => {
    expect(rewritten("You are Claude Code, Anthropic's official CLI for Claude.")).toBe(
      "You are grok-4, the model running as the agent inside Claude Code, Anthropic's official CLI for Claude.",
    );
    expect(rewritten("You are a Claude agent, built on Anthropic's Claude Agent SDK.")).toBe(
      "You are grok-4, running as an agent built on Anthropic's Claude Agent SDK.",
    );
    expect(rewritten("You are an agent for Claude Code, Anthropic's official CLI for Claude.")).toBe(
      "You are grok-4, running as an agent for Claude Code, Anthropic's official CLI for Claude.",
    );
  });

  it('rewrites other vendors\' model names presented as "you", and only those', () => {
    expect(rewritten('The assistant is Claude, created by Anthropic.')).toBe('The assistant is grok-4.');
    expect(rewritten('You are Claude, a helpful assistant.')).toBe('You are grok-4, a helpful assistant.');
    expect(rewritten('You are ChatGPT, a large language model trained by OpenAI.')).toBe('You are grok-4.');
    expect(rewritten('You were trained by OpenAI.', 'openai', 'qwen3-coder')).toBe(
      'You are qwen3-coder, made by Alibaba.',
    );
    for (const unrelated of [
      'Ask Claude Code about CLAUDE.md files.',
      'Co-Authored-By: Claude Opus 5.5 <noreply@anthropic.com>',
      'You are a coding agent running in the Codex CLI, a terminal-based coding assistant.',
      'You are OpenCode, the best coding agent on the planet.',
      'You are Grok 4, built by xAI.',
    ]) {
      expect(rewritten(unrelated)).toBe(unrelated);
    }
  });

  it("keeps the upstream vendor's own names: Codex lines stay for an OpenAI model, Claude lines are rewritten", () => {
    const codex = 'You are Codex, a coding agent based on GPT-5. Go.';
    expect(rewritten(codex, 'openai', 'gpt-5.5')).toBe(codex);
    expect(
      rewritten("You are Claude Code, Anthropic's official CLI for Claude.", 'openai', 'gpt-5.5'),
    ).toMatch(/^You are gpt-5\.5, the model running as the agent inside Claude Code/);
    // Claude through OpenRouter is still Claude: its prompt is its own.
    const claudeCode = "You are Claude Code, Anthropic's official CLI for Claude.";
    expect(rewritten(claudeCode, 'openrouter', 'anthropic/claude-sonnet-4-5')).toBe(claudeCode);
  });

  it('replaces whole opening sentences with custom text, and leaves everything alone when off', () => {
    const custom: IdentitySetting = { mode: 'custom', text: 'You are the house model.' };
    expect(
      rewritten("You are Claude Code, Anthropic's official CLI for Claude. Help.", 'xai', 'grok-4', custom),
    ).toBe('You are the house model. Help.');
    const original = requestWith(["You are Claude Code, Anthropic's official CLI for Claude."]);
    const off = applyIdentity(original, target('xai', 'grok-4', { setting: { mode: 'off' } }));
    expect(off.request).toBe(original);
    expect(off.claims).toEqual([]);
  });

  it('rewrites system messages inside the conversation too, and never changes its input', () => {
    const original = requestWith(
      ["You are Claude Code, Anthropic's official CLI for Claude."],
      '# Environment\nYou are powered by the model named Opus 5.5. The exact model ID is claude-opus-5-5.',
    );
    const copy = structuredClone(original);
    const { request } = applyIdentity(original, target('openai', 'qwen3-coder'));
    expect(original).toEqual(copy);
    const environment = request.messages[1]!.content[0]!;
    expect(environment.type === 'text' && environment.text).toBe(
      '# Environment\nYou are powered by the model qwen3-coder.',
    );
  });

  it('returns the same request when nothing names another vendor', () => {
    const plain = requestWith(['Be brief.']);
    expect(applyIdentity(plain, target('xai', 'grok-4', { statement: undefined })).request).toBe(plain);
  });

  it('lists its rules as sentences', () => {
    expect(identityRuleList().length).toBeGreaterThanOrEqual(6);
    expect(identityRuleList().join('\n')).toMatch(/powered by the model named/);
  });
});

describe('identity claims that survive the rewrite', () => {
  it('reports a wording the rules do not know, with its sentence', () => {
    const { claims } = applyIdentity(
      requestWith(['Intro line.\nYour name is Claude. Be helpful.']),
      target('xai', 'grok-4'),
    );
    expect(claims).toEqual(['Your name is Claude.']);
  });

  it('reports claims sent to an Anthropic upstream without changing its request', () => {
    const original = requestWith([
      'You are Codex, an agent based on GPT-6. You and the user share a workspace.',
    ]);
    const outcome = applyIdentity(original, target('anthropic', 'claude-sonnet-4-5'));
    expect(outcome.request).toBe(original);
    expect(outcome.claims).toEqual(['You are Codex, an agent based on GPT-6.']);
  });

  it('finds nothing in rewritten prompts, nor in mentions that are not about "you"', () => {
    const { claims } = applyIdentity(
      requestWith([
        "You are Claude Code, Anthropic's official CLI for Claude.",
        'Claude Code is available as a CLI. The most recent Claude models are the Claude 5 family.',
      ]),
      target('xai', 'grok-4'),
    );
    expect(claims).toEqual([]);
  });
});

describe('statement of identity', () => {
  const claudeCode = ["You are Claude Code, Anthropic's official CLI for Claude."];

  it("is added last when the prompt names another vendor's model or product", () => {
    const { request } = applyIdentity(
      requestWith(claudeCode),
      target('xai', 'grok-4', { statement: undefined }),
    );
    const statement = request.system.at(-1)!.text;
    expect(statement).toMatch(/^You are grok-4, a model made by xAI\. /);
    expect(statement).toContain('Parts of these instructions were written for another model or product');
    expect(statement).toMatch(/If asked which model you are, say grok-4\.$/);
  });

  it('takes the configured text, with {model}, or none', () => {
    const custom = applyIdentity(
      requestWith(claudeCode),
      target('openai', 'qwen3-coder', { statement: 'You are {model}, served by ACME.' }),
    ).request;
    expect(custom.system.at(-1)!.text).toBe('You are qwen3-coder, served by ACME.');
    const none = applyIdentity(
      requestWith(claudeCode),
      target('openai', 'qwen3-coder', { statement: false }),
    );
    expect(none.request.system).toHaveLength(1);
  });

  it("is not added for Anthropic upstreams, nor for prompts of the model's own vendor", () => {
    expect(
      applyIdentity(
        requestWith(claudeCode),
        target('anthropic', 'claude-sonnet-4-5', { statement: undefined }),
      ).request.system,
    ).toHaveLength(1);
    const codex = requestWith(['You are Codex, a coding agent based on GPT-5. Codex CLI is led by OpenAI.']);
    expect(applyIdentity(codex, target('openai', 'gpt-5.5', { statement: undefined })).request).toBe(codex);
  });
});
