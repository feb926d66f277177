import type { ApiProtocol } from './protocol/types.js';

/** The gateway's endpoint table: which path is which protocol's call, and what an unknown path is answered in. */

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
