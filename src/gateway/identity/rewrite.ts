import type { IdentityPatterns, RuleContext } from './patterns.js';

/**
 * Agents' prompts tell the model who it is ("You are Claude Code, Anthropic's official CLI for Claude.",
 * "You are Codex, an agent based on GPT-6."). Sent to another vendor's model, such lines make it claim to
 * be that model and misjudge its own limits. The rules (patterns.ts) match the structure of such
 * sentences, not their exact words, so that a new CLI release with new wording is still caught: "you" +
 * another vendor's model or product name, "powered by the model named …", "based on <model>".
 */
export function rewriteIdentityText(text: string, patterns: IdentityPatterns, context: RuleContext): string {
  let result = text;
  for (const rule of patterns.rules) {
    rule.pattern.lastIndex = 0;
    if (!rule.pattern.test(result)) continue;
    result = result.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      const groups = rest.slice(0, -2).map((group) => (typeof group === 'string' ? group : ''));
      return rule.replace(match, groups, context);
    });
  }
  return result;
}

export function describeIdentityRules(patterns: IdentityPatterns): string[] {
  return patterns.rules.map((rule) => rule.explain);
}
