import type { UpstreamClient } from '../upstream-client.js';
import { estimateTokens } from '../protocol/estimate-tokens.js';
import type { ModelRequest, ProtocolAdapter } from '../protocol/types.js';
import type { Deployment } from '../router.js';
import { readUpstreamBody, tryParseJson } from '../bodies.js';

/** The fields Anthropic's count_tokens accepts; the rest of a messages body is refused there. */
const countFields = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'mcp_servers'];

/** count_tokens should not hold an agent up: past this, the estimate answers. */
const countTimeoutMs = 5_000;

/**
 * `count_tokens`: when the model is served by Anthropic itself, its own count_tokens endpoint gives
 * the exact figure; for every other model (or when that call fails) the documented estimate in
 * protocol/estimate-tokens.ts answers. Never 0 for a non-empty request.
 */
export async function countTokens(options: {
  request: ModelRequest;
  deployment: Deployment | undefined;
  adapter: (deployment: Deployment) => ProtocolAdapter;
  client: UpstreamClient;
  headers: (deployment: Deployment) => Record<string, string>;
  signal: AbortSignal;
}): Promise<{ inputTokens: number; exact: boolean }> {
  const estimate = { inputTokens: estimateTokens(options.request), exact: false };
  const deployment = options.deployment;
  if (!deployment || !deployment.provider.isAnthropic || deployment.protocol !== 'anthropic-messages')
    return estimate;
  const built = options.adapter(deployment).buildUpstreamRequest(options.request, deployment.upstreamModel);
  const full = built.body as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const field of countFields) if (full[field] !== undefined) body[field] = full[field];
  try {
    const response = await options.client.send({
      url: new URL(`${deployment.apiBase}${built.path}/count_tokens`),
      headers: options.headers(deployment),
      body: JSON.stringify(body),
      firstByteTimeoutMs: Math.min(countTimeoutMs, deployment.entry.firstByteTimeoutMs),
      idleTimeoutMs: countTimeoutMs,
      signal: options.signal,
    });
    const answer = tryParseJson(await readUpstreamBody(response, 1024 * 1024)) as { input_tokens?: unknown };
    if (response.statusCode === 200 && typeof answer.input_tokens === 'number' && answer.input_tokens >= 0) {
      return { inputTokens: answer.input_tokens, exact: true };
    }
  } catch {
    // Unreachable, slow or odd: the estimate is still a good answer.
  }
  return estimate;
}
