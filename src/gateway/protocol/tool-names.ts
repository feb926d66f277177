import { createHash } from 'node:crypto';
import type { ModelRequest, ToolNameMap } from './types.js';

/** OpenAI (and Anthropic) refuse tool names longer than 64 characters; MCP tool names often are. */
export const TOOL_NAME_LIMIT = 64;
const HASH_LENGTH = 8;

/**
 * Shortens each over-long name to a stable `<prefix>_<8 hex of sha256>` and remembers the original, so
 * names the upstream sends back can be restored. Names within the limit pass through unchanged, as do
 * names the map has never seen.
 */
export function createToolNameMap(names: Iterable<string>, limit = TOOL_NAME_LIMIT): ToolNameMap {
  const toShort = new Map<string, string>();
  const toOriginal = new Map<string, string>();
  const taken = new Set<string>();
  const all = [...new Set(names)];
  for (const name of all) if (name.length <= limit) taken.add(name);
  for (const name of all) {
    if (name.length <= limit) continue;
    let short = shortenToolName(name, limit);
    for (let attempt = 1; taken.has(short); attempt += 1)
      short = shortenToolName(`${name}#${attempt}`, limit);
    taken.add(short);
    toShort.set(name, short);
    toOriginal.set(short, name);
  }
  return {
    toUpstream: (name) => toShort.get(name) ?? name,
    fromUpstream: (name) => toOriginal.get(name) ?? name,
  };
}

export function shortenToolName(name: string, limit = TOOL_NAME_LIMIT): string {
  if (name.length <= limit) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);
  return `${name.slice(0, limit - HASH_LENGTH - 1)}_${hash}`;
}

/** Every tool name a request mentions: declared tools, forced tool choice, and calls in the history. */
export function toolNamesOf(request: ModelRequest): string[] {
  const names = request.tools.map((tool) => tool.name);
  if (request.toolChoice?.type === 'tool') names.push(request.toolChoice.name);
  for (const message of request.messages) {
    for (const part of message.content) if (part.type === 'tool-call') names.push(part.name);
  }
  return names;
}

export function createRequestToolNameMap(request: ModelRequest): ToolNameMap {
  return createToolNameMap(toolNamesOf(request));
}

/** The identity map, for upstreams that need no shortening and for decoders given no map. */
export const identityToolNames: ToolNameMap = { toUpstream: (name) => name, fromUpstream: (name) => name };
