import type { IdentitySetting, ModelMessage, ModelRequest, TextPart } from '../protocol/types.js';
import { findIdentityClaims } from './claims.js';
import { identityPatterns } from './patterns.js';
import { describeIdentityRules, rewriteIdentityText } from './rewrite.js';
import { identityStatement } from './statement.js';
import type { Vendor } from './vendors.js';

export { vendorOfModel, VENDORS, type Vendor } from './vendors.js';

/** The model a request is about to be sent to, and what its entry says about identity. */
export interface IdentityTarget {
  /** The upstream model's name, as the rewritten lines will name it. */
  model: string;
  vendor: Vendor | undefined;
  setting: IdentitySetting;
  /** `warren.identity_statement`: the text (with `{model}`), `false` for none, absent for the default. */
  statement: string | false | undefined;
  /** False for Anthropic upstreams: their requests go as the caller wrote them; claims are only reported. */
  rewrite: boolean;
}

export interface IdentityOutcome {
  request: ModelRequest;
  /** Another vendor's identity still addressed to the model, as sentences (empty when none). */
  claims: string[];
}

/** The texts that tell a model who it is: the system prompt and system messages inside the conversation. */
function instructionTexts(request: ModelRequest): string[] {
  const texts = request.system.map((part) => part.text);
  for (const message of request.messages) {
    if (message.role !== 'system') continue;
    for (const part of message.content) if (part.type === 'text') texts.push(part.text);
  }
  return texts;
}

/**
 * Rewrites other vendors' identity lines for the real model, adds the statement of identity, and reports
 * the claims that are left. Returns the input unchanged (the same object) when there is nothing to do.
 */
export function applyIdentity(request: ModelRequest, target: IdentityTarget): IdentityOutcome {
  if (target.setting.mode === 'off') return { request, claims: [] };
  const patterns = identityPatterns(target.vendor);
  const texts = instructionTexts(request);
  // Only texts that name another vendor (or a model line) can hold what the rules and checks look for.
  const flagged = texts.filter((text) => patterns.gate.test(text));
  if (flagged.length === 0) return { request, claims: [] };
  if (!target.rewrite) return { request, claims: findIdentityClaims(flagged, patterns) };

  const context = {
    model: target.model,
    maker: target.vendor?.maker,
    custom: target.setting.mode === 'custom' ? target.setting.text : undefined,
  };
  const rewrite = (part: TextPart): TextPart => {
    if (!patterns.gate.test(part.text)) return part;
    const text = rewriteIdentityText(part.text, patterns, context);
    return text === part.text ? part : { ...part, text };
  };
  const rewritten: ModelRequest = {
    ...request,
    system: request.system.map(rewrite),
    messages: request.messages.map((message): ModelMessage =>
      message.role === 'system'
        ? {
            ...message,
            content: message.content.map((part) => (part.type === 'text' ? rewrite(part) : part)),
          }
        : message,
    ),
  };
  const after = instructionTexts(rewritten).filter((text) => patterns.gate.test(text));
  const claims = findIdentityClaims(after, patterns);
  if (target.statement !== false && after.some((text) => patterns.mentions.test(text))) {
    const statement = identityStatement(target.statement, target.model, target.vendor?.maker);
    rewritten.system = [...rewritten.system, { type: 'text', text: statement }];
  }
  return { request: rewritten, claims };
}

/** What each rewrite rule matches, for documentation and `explain` output. */
export function identityRuleList(): string[] {
  return describeIdentityRules(identityPatterns(undefined));
}
