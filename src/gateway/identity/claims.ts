import type { IdentityPatterns } from './patterns.js';

/** Longest excerpt recorded per claim: enough to recognise the sentence, short enough for a table. */
const EXCERPT_CHARS = 160;

/** The sentence around a match: from the previous full stop or line start to the next one. */
function sentenceAround(text: string, start: number, end: number): string {
  let from = start;
  while (from > 0 && text[from - 1] !== '\n' && !(text[from - 2] === '.' && text[from - 1] === ' ')) from--;
  let to = end;
  while (to < text.length && text[to] !== '\n' && !(text[to] === '.' && /\s/.test(text[to + 1] ?? ' '))) to++;
  const sentence = text.slice(from, Math.min(to + 1, text.length)).trim();
  return sentence.length > EXCERPT_CHARS ? `${sentence.slice(0, EXCERPT_CHARS - 1)}…` : sentence;
}

/**
 * Identity claims that reach the model: another vendor's model or product presented as "you" ("you are
 * Claude", "your name is Codex", "based on GPT-5", "the exact model ID is claude-…"). Run on the prompt
 * as it goes upstream, after the rewrite: whatever it finds is a wording the rules do not know yet (or a
 * prompt left alone on purpose), reported so that users hear of it the first time.
 */
export function findIdentityClaims(texts: string[], patterns: IdentityPatterns): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    for (const claim of patterns.claims) {
      claim.lastIndex = 0;
      for (const match of text.matchAll(claim)) {
        found.add(sentenceAround(text, match.index, match.index + match[0].length));
      }
    }
  }
  return [...found];
}
