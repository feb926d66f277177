import { invalidRequest } from '../../protocol/errors.js';
import { readCacheControl } from '../anthropic/content.js';
import {
  expectArray,
  expectRecord,
  expectString,
  isRecord,
  optionalString,
  type JsonRecord,
} from '../../protocol/read.js';
import type { ContentPart, ImagePart, ModelMessage, TextPart } from '../../protocol/types.js';

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** `image_url.url` (a URL or a base64 data URL) → neutral image. */
export function imageFromUrl(url: string, detail: string | undefined): ImagePart {
  const match = DATA_URL.exec(url);
  const image: ImagePart = match
    ? { type: 'image', source: { kind: 'base64', mediaType: match[1] as string, data: match[2] as string } }
    : { type: 'image', source: { kind: 'url', url } };
  if (detail !== undefined) image.detail = detail;
  return image;
}

export function imageUrl(image: ImagePart): string {
  return image.source.kind === 'url'
    ? image.source.url
    : `data:${image.source.mediaType};base64,${image.source.data}`;
}

/** Chat `content`: a string or content parts (text, image_url, refusal). */
export function partsFromChatContent(value: unknown, path: string): Array<TextPart | ImagePart> {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value === '' ? [] : [{ type: 'text', text: value }];
  return expectArray(value, path).map((item, index) => {
    const itemPath = `${path}[${index}]`;
    const part = expectRecord(item, itemPath);
    switch (part.type) {
      case 'text': {
        const text: TextPart = { type: 'text', text: expectString(part.text, `${itemPath}.text`) };
        // LiteLLM and OpenRouter let chat callers mark Anthropic cache breakpoints on content parts.
        const cacheControl = readCacheControl(part.cache_control);
        if (cacheControl) text.cacheControl = cacheControl;
        return text;
      }
      case 'refusal':
        return { type: 'text', text: expectString(part.refusal, `${itemPath}.refusal`) };
      case 'image_url': {
        const image = isRecord(part.image_url) ? part.image_url : { url: part.image_url };
        return imageFromUrl(
          expectString(image.url, `${itemPath}.image_url.url`),
          optionalString(image.detail, `${itemPath}.image_url.detail`),
        );
      }
      default:
        throw invalidRequest(
          `${itemPath}.type`,
          `content part type ${JSON.stringify(part.type)} is not supported by the Warren gateway (supported: text, image_url)`,
        );
    }
  });
}

/** Joins the text parts of a system or tool message. */
export function textOf(parts: Array<TextPart | ImagePart>): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/**
 * OpenAI sends tool results as separate `tool` messages; the neutral model (like Anthropic) keeps them in
 * the user turn. Consecutive messages of one role are merged so results and the next user text share a turn.
 */
export function appendMessage(
  messages: ModelMessage[],
  role: ModelMessage['role'],
  content: ContentPart[],
): void {
  if (content.length === 0) return;
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) last.content.push(...content);
  else messages.push({ role, content: [...content] });
}

export function chatContentFromParts(parts: Array<TextPart | ImagePart>): string | JsonRecord[] {
  if (parts.every((part) => part.type === 'text')) return textOf(parts);
  return parts.map((part) =>
    part.type === 'text'
      ? { type: 'text', text: part.text }
      : {
          type: 'image_url',
          image_url: part.detail ? { url: imageUrl(part), detail: part.detail } : { url: imageUrl(part) },
        },
  );
}
