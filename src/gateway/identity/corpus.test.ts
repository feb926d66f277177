import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getAdapter } from '../adapters/index.js';
import { prepareUpstream } from '../call/prepare-upstream.js';
import { parseGatewayConfig } from '../config.js';
import { isRecord } from '../protocol/read.js';
import type { ApiProtocol, ModelRequest } from '../protocol/types.js';
import { createRouter, type Deployment } from '../router.js';
import { findIdentityClaims } from './claims.js';
import { applyIdentity } from './index.js';
import { identityPatterns } from './patterns.js';
import { vendorOfModel } from './vendors.js';

/**
 * The identity rules on real prompts: every call in the captured corpus (../__fixtures__/identity/), sent
 * to three non-Anthropic models and one Anthropic model, as the gateway prepares it. What each
 * upstream's instructions say about "you" is kept in golden files, reviewed by hand.
 */

const corpus = fileURLToPath(new URL('../__fixtures__/identity/', import.meta.url));

interface CapturedCall {
  protocol: 'anthropic' | 'chat' | 'responses';
  body: Record<string, unknown>;
}
interface Fixture {
  cli: string;
  version: string;
  variant: string;
  requests: CapturedCall[];
}

const callerProtocol: Record<CapturedCall['protocol'], ApiProtocol> = {
  anthropic: 'anthropic-messages',
  chat: 'openai-chat',
  responses: 'openai-responses',
};

const config = parseGatewayConfig(
  {
    model_list: [
      ['grok', 'xai/grok-4'],
      ['qwen', 'hosted_vllm/qwen3-coder'],
      ['gpt', 'openai/gpt-5.5'],
      ['claude', 'anthropic/claude-sonnet-4-5'],
    ].map(([name, model]) => ({ model_name: name, litellm_params: { model, api_key: 'sk-test' } })),
  },
  {},
);
const router = createRouter(config, { random: () => 0 });
const deployment = (name: string): Deployment => router.plan(name)[0]!.deployment;
const nonAnthropic = ['grok', 'qwen', 'gpt'];

/** The instructions as an upstream of the deployment's protocol reads them back from the body it got. */
function instructionsSeen(body: unknown, protocol: ApiProtocol): string[] {
  const request = getAdapter(protocol).parseRequest(body);
  return [
    ...request.system.map((part) => part.text),
    ...request.messages
      .filter((message) => message.role === 'system')
      .flatMap((message) => message.content.flatMap((part) => (part.type === 'text' ? [part.text] : []))),
  ];
}

const YOU = /\byou\b|\byour\b|the assistant is/i;
const anyVendorName = identityPatterns(undefined).mentions;

/** The lines that speak to the model about who it is: "you" with a model, product or maker name. */
function identityLines(texts: string[], model: string): string[] {
  return texts
    .flatMap((text) => text.split('\n'))
    .filter((line) => {
      if (!YOU.test(line)) return false;
      anyVendorName.lastIndex = 0;
      return line.includes(model) || anyVendorName.test(line);
    })
    .map((line) => (line.length > 240 ? `${line.slice(0, 239)}…` : line));
}

/**
 * A call the gateway cannot parse yet (Codex's `additional_tools` input item): its instructions are
 * taken from the body's text (`instructions`, developer messages) and checked as text.
 */
function textOnlyRequest(call: CapturedCall): ModelRequest {
  const texts: string[] = [];
  if (typeof call.body.instructions === 'string') texts.push(call.body.instructions);
  for (const item of Array.isArray(call.body.input) ? call.body.input : []) {
    if (!isRecord(item) || item.role !== 'developer' || !Array.isArray(item.content)) continue;
    for (const part of item.content)
      if (isRecord(part) && typeof part.text === 'string') texts.push(part.text);
  }
  return {
    model: String(call.body.model),
    system: texts.map((text) => ({ type: 'text', text })),
    messages: [],
    tools: [],
    stream: false,
  };
}

const fixtures: Array<[string, Fixture]> = readdirSync(corpus)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => [
    name.replace(/\.json$/, ''),
    JSON.parse(readFileSync(`${corpus}${name}`, 'utf8')) as Fixture,
  ]);

describe('the identity corpus', () => {
  it('holds every CLI, each with the version it was captured from', () => {
    const clis = new Map(fixtures.map(([, fixture]) => [fixture.cli, fixture.version]));
    expect([...clis.keys()].sort()).toEqual(['claude', 'codex', 'opencode']);
    for (const version of clis.values()) expect(version).toMatch(/\d+\.\d+\.\d+/);
  });

  describe.each(fixtures)('%s', (name, fixture) => {
    it('reaches a non-Anthropic model with no other vendor presented as "you"', async () => {
      const seen: string[] = [];
      fixture.requests.forEach((call, index) => {
        const protocol = callerProtocol[call.protocol];
        let request: ModelRequest;
        try {
          request = getAdapter(protocol).parseRequest(call.body);
        } catch {
          // Only Codex's newest request shape is known not to parse (see the README).
          expect(name).toBe('codex-default-model');
          request = textOnlyRequest(call);
          for (const model of nonAnthropic) {
            const target = deployment(model);
            const outcome = applyIdentity(request, {
              model: target.upstreamModel,
              vendor: vendorOfModel(target.provider.name, target.upstreamModel),
              setting: { mode: 'default' },
              statement: undefined,
              rewrite: true,
            });
            expect(outcome.claims, `${name}#${index} → ${target.label}`).toEqual([]);
            const texts = outcome.request.system.map((part) => part.text);
            seen.push(
              `## call ${index} (text only) → ${target.label}`,
              ...identityLines(texts, target.upstreamModel),
              '',
            );
          }
          return;
        }
        for (const model of nonAnthropic) {
          const target = deployment(model);
          const prepared = prepareUpstream(request, protocol, target, getAdapter(target.protocol));
          expect(prepared.identityClaims, `${name}#${index} → ${target.label}`).toEqual([]);
          const texts = instructionsSeen(prepared.upstream.body, target.protocol);
          const patterns = identityPatterns(vendorOfModel(target.provider.name, target.upstreamModel));
          expect(findIdentityClaims(texts, patterns), `${name}#${index} → ${target.label}`).toEqual([]);
          seen.push(`## call ${index} → ${target.label}`, ...identityLines(texts, target.upstreamModel), '');
        }
      });
      await expect(seen.join('\n')).toMatchFileSnapshot(`${corpus}golden/${name}.txt`);
    });

    it('reaches an Anthropic model exactly as the caller wrote its instructions', () => {
      for (const call of fixture.requests) {
        const protocol = callerProtocol[call.protocol];
        let request: ModelRequest;
        try {
          request = getAdapter(protocol).parseRequest(call.body);
        } catch {
          continue;
        }
        const target = deployment('claude');
        const prepared = prepareUpstream(request, protocol, target, getAdapter(target.protocol));
        const body = prepared.upstream.body as Record<string, unknown>;
        if (protocol === 'anthropic-messages') {
          expect(body.system).toEqual(call.body.system);
          expect(body.messages).toEqual(
            (call.body.messages as unknown[]).map((message) => expect.objectContaining(message as object)),
          );
        } else {
          expect(instructionsSeen(body, 'anthropic-messages').join('\n')).toBe(
            [
              ...request.system.map((part) => part.text),
              ...request.messages
                .filter((message) => message.role === 'system')
                .flatMap((message) =>
                  message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])),
                ),
            ].join('\n'),
          );
        }
      }
    });
  });
});
