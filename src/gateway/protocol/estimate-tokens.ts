import { imageSizeFromBase64, imageTokens } from './image-size.js';
import type { ContentPart, ModelRequest, TextPart } from './types.js';

/**
 * A documented approximation of BPE token counts, used by `count_tokens` and for the input estimate in a
 * stream's first event. Rules:
 * - a run of letters costs one token per 6 letters (rounded up): common words are one token;
 * - a run of digits costs one token per 3 digits;
 * - a run of ASCII punctuation costs one token per 2 characters (`();`, `=>`, `"}` are single tokens);
 * - a single space before anything is free (BPE merges it into the next token); other whitespace runs
 *   (a newline and its indentation) cost one;
 * - each non-ASCII character costs one (CJK is about one per character);
 * - each message adds 3 tokens of framing, each tool its JSON schema text plus 8;
 * - each image costs Anthropic's width × height / 750 after its resize rule, its size read from the PNG,
 *   JPEG, GIF or WebP header; 1,600 (the cost of a full-size image) when the size is unknown (URLs).
 * Measured against OpenAI's o200k tokenizer (estimate-tokens.test.ts): 0.95–1.25× on prose, TypeScript,
 * JSON and SSE text. Erring high is deliberate: Claude's tokenizer counts more tokens than o200k for the same
 * text, and an agent that thinks its context is fuller than it is compacts early instead of overflowing.
 */
const IMAGE_TOKENS = 1600;
const MESSAGE_OVERHEAD = 3;
const TOOL_OVERHEAD = 8;

export function estimateTextTokens(text: string): number {
  let tokens = 0;
  let index = 0;
  const length = text.length;
  while (index < length) {
    const code = text.charCodeAt(index);
    const start = index;
    if (isLetter(code)) {
      while (index < length && isLetter(text.charCodeAt(index))) index += 1;
      tokens += Math.ceil((index - start) / 6);
    } else if (isDigit(code)) {
      while (index < length && isDigit(text.charCodeAt(index))) index += 1;
      tokens += Math.ceil((index - start) / 3);
    } else if (isSpace(code)) {
      while (index < length && isSpace(text.charCodeAt(index))) index += 1;
      // One space merges into the next token; a newline with its indentation is about one token.
      if (!(index - start === 1 && code === 32 && index < length)) tokens += 1;
    } else if (code < 128) {
      while (index < length && isSymbol(text.charCodeAt(index))) index += 1;
      tokens += Math.ceil((index - start) / 2);
    } else {
      // Surrogate pairs count once: step over the low half.
      index += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
      tokens += 1;
    }
  }
  return tokens;
}

export function estimateTokens(request: ModelRequest): number {
  let tokens = 0;
  for (const part of request.system) tokens += estimateTextTokens(part.text);
  for (const message of request.messages) {
    tokens += MESSAGE_OVERHEAD;
    for (const part of message.content) tokens += estimatePartTokens(part);
  }
  for (const tool of request.tools) {
    tokens += TOOL_OVERHEAD + estimateTextTokens(tool.name) + estimateTextTokens(tool.description ?? '');
    tokens += estimateTextTokens(JSON.stringify(tool.inputSchema));
  }
  return tokens;
}

function estimatePartTokens(part: ContentPart): number {
  switch (part.type) {
    case 'text':
      return estimateTextTokens(part.text);
    case 'image': {
      const size = part.source.kind === 'base64' ? imageSizeFromBase64(part.source.data) : undefined;
      return size === undefined ? IMAGE_TOKENS : imageTokens(size);
    }
    case 'tool-call':
      return estimateTextTokens(part.name) + estimateTextTokens(part.inputJson) + MESSAGE_OVERHEAD;
    case 'tool-result':
      return part.content.reduce(
        (sum: number, item: TextPart | ContentPart) => sum + estimatePartTokens(item),
        MESSAGE_OVERHEAD,
      );
    case 'reasoning':
      return estimateTextTokens(part.text);
    case 'provider':
      return estimateTextTokens(JSON.stringify(part.data));
  }
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** ASCII punctuation: runs like `();` or `=>` are common BPE tokens. */
function isSymbol(code: number): boolean {
  return code < 128 && code > 32 && !isLetter(code) && !isDigit(code);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}
