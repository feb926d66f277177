import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createGateway,
  parseGatewayConfig,
  type Gateway,
  type GatewayOptions,
  type UsageRecord,
} from '../../src/gateway/index.js';
import { startFakeAnthropic, startFakeOpenAi, type FakeLlm, type FakeLlmOptions } from './fake-llm.js';

export const masterKey = 'sk-test-master';

export interface GatewayFixture {
  gateway: Gateway;
  /** http://127.0.0.1:port of the standalone listener. */
  url: string;
  openai: FakeLlm;
  anthropic: FakeLlm;
  usage: UsageRecord[];
  close(): Promise<void>;
}

/**
 * A gateway in front of one fake OpenAI-compatible upstream and one fake Anthropic upstream:
 * `gpt-fake` → openai/gpt-fake, `claude-fake` → anthropic/claude-fake, and `claude-sonnet-next`
 * (a name Claude Code sends) → openai/qwen-fake, a non-Anthropic model behind a Claude name.
 */
export async function startGatewayFixture(
  options: {
    openai?: FakeLlmOptions;
    anthropic?: FakeLlmOptions;
    /** More model_list entries; a function gets the fakes' URLs (OpenAI's with `/v1`), to route to them. */
    extraModels?: unknown[] | ((upstreams: { openai: string; anthropic: string }) => unknown[]);
    settings?: Record<string, unknown>;
    gateway?: Partial<GatewayOptions>;
  } = {},
): Promise<GatewayFixture> {
  const openai = await startFakeOpenAi(options.openai);
  const anthropic = await startFakeAnthropic(options.anthropic);
  const config = parseGatewayConfig(
    {
      model_list: [
        {
          model_name: 'gpt-fake',
          litellm_params: {
            model: 'openai/gpt-fake',
            api_base: `${openai.url}/v1`,
            api_key: 'sk-upstream-openai',
          },
        },
        {
          model_name: 'claude-fake',
          litellm_params: {
            model: 'anthropic/claude-fake',
            api_base: anthropic.url,
            api_key: 'sk-upstream-anthropic',
          },
        },
        {
          model_name: 'claude-sonnet-next',
          litellm_params: {
            model: 'openai/qwen-fake',
            api_base: `${openai.url}/v1`,
            api_key: 'sk-upstream-openai',
          },
        },
        ...(typeof options.extraModels === 'function'
          ? options.extraModels({ openai: `${openai.url}/v1`, anthropic: anthropic.url })
          : (options.extraModels ?? [])),
      ],
      general_settings: { master_key: masterKey },
      router_settings: { num_retries: 0, ...options.settings },
    },
    {},
  );
  const usage: UsageRecord[] = [];
  const gateway = createGateway({
    config,
    usage: { record: (entry) => usage.push(entry) },
    router: { retryDelayMs: 0 },
    ...options.gateway,
  });
  const address = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url: `http://127.0.0.1:${address.port}`,
    openai,
    anthropic,
    usage,
    async close() {
      await gateway.close();
      await openai.close();
      await anthropic.close();
    },
  };
}

/**
 * A server that hands every request to the gateway's handler with a fixed session, the way the
 * egress proxy does for traffic arriving on a sandbox's socket.
 */
export async function startSessionFront(
  gateway: Gateway,
  sessionId: string,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => gateway.handler(request, response, { id: sessionId }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
