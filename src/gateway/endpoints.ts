import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from './protocol/errors.js';
import type { ApiProtocol, GatewayErrorInfo, ProtocolAdapter } from './protocol/types.js';

/** Small helpers for reading requests and writing answers; the routes stay about routing. */

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** An error in the shape of the caller's protocol, with the status the adapter chose. */
export function sendError(response: ServerResponse, adapter: ProtocolAdapter, info: GatewayErrorInfo): void {
  const encoded = adapter.encodeError(info);
  sendJson(response, encoded.status, encoded.body);
}

/** Reads a body up to `limit` bytes; rejects with a 413 GatewayError beyond it. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // The client went away mid-body: nobody is left to read the answer, but it is not our fault.
    throw new GatewayError({ status: 400, kind: 'invalid-request', message: 'the request body was cut off' });
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError({
    status: 413,
    kind: 'request-too-large',
    message: `request body is larger than the gateway's limit of ${limit} bytes`,
  });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) {
    throw new GatewayError({
      status: 400,
      kind: 'invalid-request',
      message: 'request body is empty; expected JSON',
    });
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new GatewayError({
      status: 400,
      kind: 'invalid-request',
      message: `request body is not valid JSON: ${(error as Error).message}`,
    });
  }
}

/** Reads an upstream body (an error or a non-streamed answer), capped so a hostile upstream cannot exhaust memory. */
export async function readUpstreamBody(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.destroy();
      throw new GatewayError({
        status: 502,
        kind: 'upstream',
        message: `upstream answer is larger than ${limit} bytes`,
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface Route {
  endpoint: 'chat-completions' | 'responses' | 'messages' | 'count-tokens' | 'models' | 'model' | 'health';
  /** For `GET /v1/models/{id}`: the id, decoded (it may contain slashes, e.g. `openai/gpt-4o`). */
  modelId?: string;
  /** The protocol of the caller, which shapes errors (models and health: OpenAI's). */
  protocol: ApiProtocol;
}

/**
 * Paths with and without the `/v1` prefix are accepted, as LiteLLM does: SDKs differ in whether
 * their base URL carries it. Query strings (Claude Code sends `?beta=true`) are ignored.
 */
export function routeOf(method: string | undefined, url: string | undefined): Route | undefined {
  // The egress proxy hands on origin-form URLs; an absolute-form one (a client that treats the
  // gateway as a proxy) is reduced to its path.
  const target = url ?? '/';
  const rawPath = (
    /^https?:\/\//i.test(target) ? target.replace(/^https?:\/\/[^/]*/i, '') || '/' : target
  ).split('?')[0]!;
  const path = rawPath.replace(/\/+$/, '').replace(/^\/v1(?=\/)/, '');
  if (method === 'GET' && (path === '/health' || path === ''))
    return { endpoint: 'health', protocol: 'openai-chat' };
  if (method === 'GET' && path === '/models') return { endpoint: 'models', protocol: 'openai-chat' };
  if (method === 'GET' && path.startsWith('/models/')) {
    let modelId: string;
    try {
      modelId = decodeURIComponent(path.slice('/models/'.length));
    } catch {
      return undefined;
    }
    return { endpoint: 'model', protocol: 'openai-chat', modelId };
  }
  if (method !== 'POST') return undefined;
  switch (path) {
    case '/chat/completions':
      return { endpoint: 'chat-completions', protocol: 'openai-chat' };
    case '/responses':
      return { endpoint: 'responses', protocol: 'openai-responses' };
    case '/messages':
      return { endpoint: 'messages', protocol: 'anthropic-messages' };
    case '/messages/count_tokens':
      return { endpoint: 'count-tokens', protocol: 'anthropic-messages' };
    default:
      return undefined;
  }
}

/** Which shape an unrouted request expects its 404/405 in. */
export function protocolGuess(url: string | undefined): ApiProtocol {
  if (url?.includes('/messages')) return 'anthropic-messages';
  if (url?.includes('/responses')) return 'openai-responses';
  return 'openai-chat';
}
