/**
 * Cross-protocol details beyond the classic traps: JSON output formats, fields without a neutral form,
 * end-user and tool ids, prompt caching marks, and request shapes captured from Claude Code 2.1.
 */
import { describe, expect, it } from 'vitest';
import type { JsonRecord } from '../protocol/read.js';
import { claudeCodeBody } from './claude-code-request.case.js';
import { getAdapter } from './index.js';

const anthropic = getAdapter('anthropic-messages');
const chat = getAdapter('openai-chat');
const responses = getAdapter('openai-responses');

describe('JSON response formats and fields without a neutral form', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  const chatRequest = chat.parseRequest({
    model: 'm',
    seed: 42,
    messages: [{ role: 'user', content: 'Where?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } },
  });

  it('asks Anthropic for JSON in the system prompt, since it has no JSON mode', () => {
    const body = anthropic.buildUpstreamRequest(chatRequest, 'claude').body as JsonRecord;
    const system = body.system as Array<{ text: string }>;
    expect(system[system.length - 1]?.text).toContain(JSON.stringify(schema));
    expect(body.seed).toBeUndefined();
  });

  it('maps response_format to Responses text.format, and keeps seed only for chat upstreams', () => {
    const body = responses.buildUpstreamRequest(chatRequest, 'gpt').body as JsonRecord;
    expect(body.text).toEqual({ format: { type: 'json_schema', name: 'place', schema, strict: true } });
    expect(body.seed).toBeUndefined();
    expect((chat.buildUpstreamRequest(chatRequest, 'gpt').body as JsonRecord).seed).toBe(42);
  });

  it('keeps Responses text options beside the format (Codex sends verbosity)', () => {
    const request = responses.parseRequest({
      model: 'gpt-5',
      input: 'hi',
      text: { verbosity: 'low', format: { type: 'json_object' } },
    });
    expect(responses.buildUpstreamRequest(request, 'gpt-5').body).toMatchObject({
      text: { verbosity: 'low', format: { type: 'json_object' } },
    });
  });

  it("passes Anthropic-only fields (Claude Code's context_management) to Anthropic upstreams only", () => {
    const request = anthropic.parseRequest({
      ...claudeCodeBody,
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    });
    expect(anthropic.buildUpstreamRequest(request, 'claude').body).toMatchObject({
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    });
    expect(JSON.stringify(chat.buildUpstreamRequest(request, 'qwen').body)).not.toContain(
      'context_management',
    );
  });
});

describe('end-user ids', () => {
  it("replaces Claude Code's long metadata.user_id by a stable 64-character hash for OpenAI's `user`", () => {
    const userId = `user_${'a'.repeat(64)}_account_${'b'.repeat(36)}_session_${'c'.repeat(36)}`;
    const request = anthropic.parseRequest({ ...claudeCodeBody, metadata: { user_id: userId } });
    const first = (chat.buildUpstreamRequest(request, 'm').body as JsonRecord).user as string;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((responses.buildUpstreamRequest(request, 'm').body as JsonRecord).user).toBe(first);
    expect(anthropic.buildUpstreamRequest(request, 'm').body).toMatchObject({
      metadata: { user_id: userId },
    });
  });
});

describe('tool ids', () => {
  it('keeps calls and results paired when an OpenAI-compatible server made ids Anthropic refuses', () => {
    const request = chat.parseRequest({
      model: 'm',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'functions.Read:0', type: 'function', function: { name: 'Read', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'functions.Read:0', content: 'ok' },
      ],
    });
    const messages = (anthropic.buildUpstreamRequest(request, 'claude').body as JsonRecord)
      .messages as Array<{ content: JsonRecord[] }>;
    expect(messages[1]?.content[0]?.id).toBe('functions_Read_0');
    expect(messages[2]?.content[0]?.tool_use_id).toBe('functions_Read_0');
  });
});

describe('Claude Code request shapes (as captured from Claude Code 2.1)', () => {
  const body = {
    model: 'claude-sonnet-4-5',
    max_tokens: 32000,
    stream: true,
    metadata: {
      user_id: JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: 's'.repeat(36) }),
    },
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1; cc_entrypoint=sdk-cli;' },
      {
        type: 'text',
        text: "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
        cache_control: { type: 'ephemeral' },
      },
    ],
    thinking: { type: 'adaptive', display: 'omitted' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
    tools: [
      {
        name: 'Write',
        description: 'Write a file',
        input_schema: { type: 'object', properties: { file_path: { type: 'string' } } },
      },
      {
        name: 'DeferredToolPlaceholder',
        description: 'later',
        input_schema: { type: 'object' },
        defer_loading: true,
      },
    ],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>…</system-reminder>' },
          { type: 'text', text: 'Write hello.txt' },
        ],
      },
      {
        role: 'system',
        content: [{ type: 'text', text: '# Environment\n - Primary working directory: /workspace' }],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Write it.', signature: 'sig' },
          { type: 'tool_use', id: 'toolu_1', name: 'Write', input: { file_path: '/workspace/hello.txt' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_1',
            content: 'ok',
            cache_control: { type: 'ephemeral' },
          },
        ],
      },
    ],
  };
  const request = anthropic.parseRequest(body);

  it('reaches an Anthropic upstream unchanged but for the model name', () => {
    expect(anthropic.buildUpstreamRequest(request, 'claude-sonnet-4-5-20250929').body).toEqual({
      ...body,
      model: 'claude-sonnet-4-5-20250929',
    });
  });

  it('reaches a chat completions upstream with the environment in the one system message', () => {
    const chatBody = chat.buildUpstreamRequest(request, 'qwen3-coder').body as JsonRecord;
    const messages = chatBody.messages as JsonRecord[];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(messages[0]?.content).toMatch(/Claude Agent SDK\.\n\n# Environment/);
    expect(JSON.stringify(chatBody)).not.toMatch(/context_management|output_config|defer_loading|adaptive/);
    expect((chatBody.user as string).length).toBe(64);
  });

  it('reaches a Responses upstream with the environment as a developer message in place', () => {
    const input = (responses.buildUpstreamRequest(request, 'gpt-5').body as JsonRecord).input as JsonRecord[];
    expect(input.map((item) => item.role ?? item.type)).toEqual([
      'user',
      'developer',
      'function_call',
      'function_call_output',
    ]);
  });
});

describe('prompt caching marks from chat callers (LiteLLM / OpenRouter style)', () => {
  it('reach an Anthropic upstream as cache_control', () => {
    const request = chat.parseRequest({
      model: 'claude',
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'Long instructions', cache_control: { type: 'ephemeral' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Big document', cache_control: { type: 'ephemeral', ttl: '1h' } },
            { type: 'text', text: 'Question?' },
          ],
        },
      ],
    });
    const body = anthropic.buildUpstreamRequest(request, 'claude').body as JsonRecord;
    expect(body.system).toEqual([
      { type: 'text', text: 'Long instructions', cache_control: { type: 'ephemeral' } },
    ]);
    expect((body.messages as Array<{ content: unknown }>)[0]?.content).toEqual([
      { type: 'text', text: 'Big document', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: 'Question?' },
    ]);
    expect(JSON.stringify(chat.buildUpstreamRequest(request, 'gpt').body)).not.toContain('cache_control');
  });
});
