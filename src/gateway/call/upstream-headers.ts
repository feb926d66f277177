import type { IncomingHttpHeaders } from 'node:http';
import { authHeaders } from '../providers.js';
import type { ApiProtocol } from '../protocol/types.js';
import type { Deployment } from '../router.js';

/**
 * The headers of a call to one deployment: its key in the provider's style, and for Anthropic
 * upstreams the API version and (only from an Anthropic caller) the caller's betas. No other caller
 * header goes upstream; the caller's key never does.
 */
export function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  callerProtocol: ApiProtocol,
  deployment: Deployment,
  stream: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'warren-gateway',
    ...authHeaders(deployment.provider, deployment.apiKey),
  };
  if (deployment.protocol === 'anthropic-messages') {
    const fromAnthropicCaller = callerProtocol === 'anthropic-messages';
    headers['anthropic-version'] =
      (fromAnthropicCaller &&
        typeof incoming['anthropic-version'] === 'string' &&
        incoming['anthropic-version']) ||
      '2023-06-01';
    // Betas (prompt caching, long context, …) only make sense between two Anthropic ends.
    const beta = incoming['anthropic-beta'];
    if (fromAnthropicCaller && typeof beta === 'string') headers['anthropic-beta'] = beta;
  }
  return { ...headers, ...deployment.entry.headers };
}
