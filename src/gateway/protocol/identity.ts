import type { IdentitySetting, ModelRequest, TextPart } from './types.js';
import { invalidRequest } from './errors.js';

/**
 * Agents' system prompts tell the model who it is ("You are Claude Code, Anthropic's official CLI for
 * Claude."). Sent to another model, that line makes it claim to be Claude and misreport its own limits.
 * These rules rewrite such lines to name the real model. They are data: each says what it matches.
 */
interface IdentityRule {
  explain: string;
  pattern: RegExp;
  /** `model` is the real model's name; `custom` the configured replacement; `groups` the pattern's groups. */
  replace(model: string, custom: string | undefined, groups: string[]): string;
}

const IDENTITY_RULES: readonly IdentityRule[] = [
  {
    explain: "Claude Code's opening line (also its Agent SDK variant)",
    pattern:
      /You are Claude Code, Anthropic's official CLI for Claude(?:, running within the Claude Agent SDK)?\./g,
    replace: (model, custom) =>
      custom ??
      `You are ${model}, the model running as the agent inside Claude Code, a CLI made by Anthropic.`,
  },
  {
    explain: "Claude Code's subagent opening line",
    pattern: /You are an agent for Claude Code, Anthropic's official CLI for Claude\./g,
    replace: (model, custom) =>
      custom ?? `You are ${model}, running as an agent for Claude Code, a CLI made by Anthropic.`,
  },
  {
    explain: 'the Claude Agent SDK opening line',
    pattern: /You are a Claude agent, built on Anthropic's Claude Agent SDK\./g,
    replace: (model, custom) =>
      custom ?? `You are ${model}, running as an agent built on Anthropic's Claude Agent SDK.`,
  },
  {
    explain: "Claude Code's line naming the model and its id",
    pattern: /You are powered by the model named [^\n]*?\. The exact model ID is [\w.:@/-]+?\.(?=\s|$)/g,
    replace: (model) => `You are powered by the model ${model}.`,
  },
  {
    explain: "Codex CLI's line naming its model family",
    pattern: /You are Codex, based on GPT-[\w.-]+/g,
    replace: (model, custom) => custom ?? `You are Codex, running on the model ${model}`,
  },
  {
    explain:
      'generic "You are Claude" / "The assistant is Claude" lines, with an optional "made by Anthropic"',
    pattern:
      /\b(You are|The assistant is) Claude\b(?! Code)(?:, (?:an? )?(?:[\w-]+ )*?(?:made|created|trained|built|developed) by Anthropic)?/g,
    replace: (model, custom, groups) => custom ?? `${groups[0] ?? 'You are'} ${model}`,
  },
];

export function describeIdentityRules(): string[] {
  return IDENTITY_RULES.map((rule) => rule.explain);
}

/**
 * Returns the request with identity lines in its system prompt rewritten (a new object; the input is not
 * changed). The caller applies this only for non-Anthropic upstreams.
 */
export function rewriteIdentity(
  request: ModelRequest,
  realModelName: string,
  setting: IdentitySetting,
): ModelRequest {
  if (setting.mode === 'off' || request.system.length === 0) return request;
  const custom = setting.mode === 'custom' ? setting.text : undefined;
  let changed = false;
  const system = request.system.map((part): TextPart => {
    const text = rewriteIdentityText(part.text, realModelName, custom);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? { ...request, system } : request;
}

export function rewriteIdentityText(text: string, realModelName: string, custom?: string): string {
  let result = text;
  for (const rule of IDENTITY_RULES) {
    result = result.replace(rule.pattern, (...match: unknown[]) => {
      const groups = match.slice(1, -2).map((group) => (typeof group === 'string' ? group : ''));
      return rule.replace(realModelName, custom, groups);
    });
  }
  return result;
}

/**
 * Reads the `warren.identity` key of a model entry: absent → default rewrite, `off`/`false` → no rewrite,
 * any other string → that text replaces identity lines.
 */
export function parseIdentitySetting(value: unknown, path = 'warren.identity'): IdentitySetting {
  if (value === undefined || value === null || value === true || value === 'default')
    return { mode: 'default' };
  if (value === false || value === 'off') return { mode: 'off' };
  if (typeof value === 'string' && value.trim() !== '') return { mode: 'custom', text: value };
  throw invalidRequest(path, 'expected "off", "default" or the replacement text');
}
