import { VENDORS, type Vendor } from './vendors.js';

/**
 * The identity patterns for one upstream vendor: the names of every *other* vendor's models, products
 * and makers, and the rewrite rules and claim checks built from them. They depend only on the vendor,
 * so they are compiled once per vendor (and once for models of no known vendor).
 */

/** The rest of a sentence after a match: up to its full stop (kept) or the end of the line. */
const REST = String.raw`([^\n]*?(?:\.(?=\s|$)|(?=\n|$)))`;

export interface RuleContext {
  /** The real model's name. */
  model: string;
  /** Its maker, when known. */
  maker: string | undefined;
  /** `warren.identity` replacement text, which replaces a whole opening sentence. */
  custom: string | undefined;
}

/** One rewrite rule, as data that says what it does. */
export interface IdentityRule {
  explain: string;
  pattern: RegExp;
  /** `groups` are the pattern's capture groups ('' when one did not take part). */
  replace(match: string, groups: string[], context: RuleContext): string;
}

export interface IdentityPatterns {
  rules: IdentityRule[];
  /** Claims of another vendor's identity addressed to the model ("you are …"), after the rewrite. */
  claims: RegExp[];
  /** Any other vendor's model or product name: whether the prompt needs a statement of identity. */
  mentions: RegExp;
  /** Whether a text may hold anything the rules or checks act on (names, makers, "powered by"). */
  gate: RegExp;
}

function alternatives(sources: (string | undefined)[]): string {
  const present = sources.filter((source): source is string => source !== undefined && source !== '');
  // A pattern that never matches, when no other vendor has names of that kind.
  return present.length > 0 ? `(?:${present.join('|')})` : '(?!)';
}

function buildPatterns(own: Vendor | undefined): IdentityPatterns {
  const others = VENDORS.filter((vendor) => vendor !== own);
  const models = alternatives(others.map((vendor) => vendor.models));
  const products = alternatives(others.map((vendor) => vendor.products));
  const makers = alternatives(others.map((vendor) => vendor.maker));
  const you = String.raw`([Yy]ou are|[Yy]ou're)`;
  const whole =
    (fallback: (groups: string[], context: RuleContext) => string) =>
    (_match: string, groups: string[], context: RuleContext) =>
      context.custom ?? fallback(groups, context);
  const rules: IdentityRule[] = [
    {
      explain:
        'a "You are powered by the model named …" sentence (with "The exact model ID is …" and a knowledge cutoff) naming another model',
      pattern: new RegExp(
        String.raw`You are powered by ([^\n]*?)(?:\.(?=\s|$)|(?=\n|$))(?:[ \t]+The exact model ID is (\S*?)\.?(?=\s|$))?(?:[ \t]+(?:Assistant|Your|The model's) knowledge cutoff is [^\n]*?(?:\.(?=\s|$)|(?=\n|$)))?`,
        'g',
      ),
      replace: (match, [named = '', id = ''], context) =>
        `${named} ${id}`.toLowerCase().includes(context.model.toLowerCase())
          ? match
          : `You are powered by the model ${context.model}.`,
    },
    {
      explain:
        'another vendor\'s agent product presented as "you" ("You are Claude Code, …", "You are Codex, …")',
      pattern: new RegExp(String.raw`\b${you} (${products})\b${REST}`, 'g'),
      replace: whole(
        ([lead = '', product = '', rest = ''], { model }) =>
          `${lead} ${model}, the model running as the agent inside ${product}${rest}`,
      ),
    },
    {
      explain: 'an agent named after another vendor ("You are a Claude agent, built on …")',
      pattern: new RegExp(String.raw`\b${you} an? (?:${models}|${makers}) agent\b,?${REST}`, 'g'),
      replace: whole(([lead = '', rest = ''], { model }) => `${lead} ${model}, running as an agent${rest}`),
    },
    {
      explain: 'an agent for another vendor\'s product ("You are an agent for Claude Code, …")',
      pattern: new RegExp(String.raw`\b${you} an agent for (${products})\b${REST}`, 'g'),
      replace: whole(
        ([lead = '', product = '', rest = ''], { model }) =>
          `${lead} ${model}, running as an agent for ${product}${rest}`,
      ),
    },
    {
      explain:
        'another vendor\'s model presented as "you" ("You are Claude, …", "The assistant is Claude, created by Anthropic.")',
      pattern: new RegExp(
        String.raw`\b([Yy]ou are|[Yy]ou're|The assistant is) (?:${models})\b(?:,? (?:an? |the )?(?:[\w-]+ ){0,4}?(?:made|created|trained|built|developed) by ${makers}\b)?${REST}`,
        'g',
      ),
      replace: whole(([lead = '', rest = ''], { model }) => `${lead} ${model}${rest}`),
    },
    {
      explain: 'a "you" sentence that says it is based on (or powered by) another vendor\'s model',
      pattern: new RegExp(
        String.raw`(\b${you}\b[^.\n]*?\b(?:based on|built on|running on|powered by|a version of) )(?:the )?(?:model )?(?:${models})`,
        'g',
      ),
      replace: (_match, [prefix = ''], { model }) => `${prefix}${model}`,
    },
    {
      explain: 'another vendor\'s product as the subject of "you" ("As Codex, you …")',
      pattern: new RegExp(String.raw`\bAs (${products}), you\b`, 'g'),
      replace: (_match, [product = ''], _context) => `As the agent inside ${product}, you`,
    },
    {
      explain: 'a "you were made/trained by" another vendor sentence',
      pattern: new RegExp(
        String.raw`\b(?:[Yy]ou were|[Yy]ou are|[Yy]ou're) (?:made|created|trained|built|developed) by ${makers}\b`,
        'g',
      ),
      replace: (_match, _groups, { model, maker }) => `You are ${model}${maker ? `, made by ${maker}` : ''}`,
    },
  ];
  // Case is spelled out ([Yy]) rather than asked of the whole pattern: a case-blind alternation of every
  // vendor's names costs several times more on a 30 kB prompt, and names are written capitalised.
  const named = String.raw`(?:an?\s+|the\s+)?(?:${models}|${products})\b`;
  const claims = [
    new RegExp(
      String.raw`\b(?:[Yy]ou are|[Yy]ou're|[Yy]our name is|[Tt]he assistant is|[Yy]ou are (?:called|named))\s+${named}`,
      'g',
    ),
    new RegExp(
      String.raw`\b(?:[Yy]ou are|[Yy]ou're)\b[^.\n]{0,160}?\b(?:based on|built on|running on|powered by|a version of)\s+(?:the\s+)?(?:model\s+)?(?:named\s+)?(?:${models})`,
      'g',
    ),
    new RegExp(String.raw`\b[Aa]s (?:${products}), you\b`, 'g'),
    new RegExp(
      String.raw`\b(?:[Yy]ou were|[Yy]ou are|[Yy]ou're)\s+(?:made|created|trained|built|developed)\s+by\s+${makers}\b`,
      'g',
    ),
    new RegExp(String.raw`\b[Tt]he exact model I[Dd] is\s+(?:${models})`, 'g'),
  ];
  // Makers are left out: "use Google to verify" or "led by OpenAI" says nothing about who the model is.
  const mentions = new RegExp(`${models}|${products}`);
  const gate = new RegExp(`${models}|${products}|\\b${makers}\\b|You are powered by`);
  return { rules, claims, mentions, gate };
}

/** Compiled once: one set per vendor, and one for models of no known vendor. */
const BY_VENDOR: ReadonlyMap<Vendor | undefined, IdentityPatterns> = new Map<
  Vendor | undefined,
  IdentityPatterns
>([undefined, ...VENDORS].map((vendor) => [vendor, buildPatterns(vendor)]));

export function identityPatterns(vendor: Vendor | undefined): IdentityPatterns {
  return BY_VENDOR.get(vendor)!;
}
