/**
 * Cross-protocol translation of requests: a caller of one protocol routed to an upstream of another. These
 * are the traps agents hit in the field (tool_choice, tool results with errors and images, system prompts,
 * thinking, max_tokens, long MCP tool names), checked on the exact body the upstream would receive.
 */
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../protocol/estimate-tokens.js';
import { applyIdentity, vendorOfModel } from '../identity/index.js';
import type { JsonRecord } from '../protocol/read.js';
import { getAdapter } from './index.js';
import { claudeCodeBody, longMcpName } from './claude-code-request.case.js';

const anthropic = getAdapter('anthropic-messages');
const chat = getAdapter('openai-chat');
const responses = getAdapter('openai-responses');

describe('Anthropic caller → OpenAI chat completions upstream', () => {
  const request = anthropic.parseRequest(claudeCodeBody);
  const upstream = chat.buildUpstreamRequest(request, 'qwen3-coder');
  const body = upstream.body as JsonRecord;
  const messages = body.messages as JsonRecord[];

  it('maps tool_choice any → required, and names one tool as a function', () => {
    expect(body.tool_choice).toBe('required');
    const forced = chat.buildUpstreamRequest({ ...request, toolChoice: { type: 'tool', name: 'Bash' } }, 'm')
      .body as JsonRecord;
    expect(forced.tool_choice).toEqual({ type: 'function', function: { name: 'Bash' } });
  });

  it('joins the system blocks into one leading system message', () => {
    expect(messages[0]).toEqual({
      role: 'system',
      content: "You are Claude Code, Anthropic's official CLI for Claude.\n\nBe concise.",
    });
  });

  it('sends tool results as tool messages, marks errors, and moves images into a user message', () => {
    expect(messages.slice(3)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Error: ls: cannot access' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'ok' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Images returned by the tool calls above:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: 'Go on.' },
        ],
      },
    ]);
  });

  it('keeps assistant text and tool calls, drops Anthropic-signed thinking', () => {
    const assistant = messages[2] as JsonRecord;
    expect(assistant.content).toBe('Running.');
    expect(JSON.stringify(assistant)).not.toContain('I will do both');
    expect((assistant.tool_calls as JsonRecord[])[0]).toEqual({
      id: 'toolu_1',
      type: 'function',
      function: { name: 'Bash', arguments: '{"command":"ls /nope"}' },
    });
  });

  it('shortens the long MCP tool name everywhere and drops the Anthropic server tool', () => {
    const text = JSON.stringify(body);
    expect(text).not.toContain(longMcpName);
    expect(text).not.toContain('web_search');
    const names = (body.tools as JsonRecord[]).map((tool) => (tool.function as JsonRecord).name as string);
    expect(names).toHaveLength(2);
    expect(names.every((name) => name.length <= 64)).toBe(true);
    expect(upstream.toolNames.fromUpstream(names[1] as string)).toBe(longMcpName);
  });

  it('carries stop sequences, max tokens and streaming with usage; no reasoning_effort from a thinking budget', () => {
    expect(body).toMatchObject({
      stop: ['</done>'],
      max_tokens: 32000,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body.reasoning_effort).toBeUndefined();
    expect((chat.buildUpstreamRequest(request, 'gpt-5').body as JsonRecord).max_completion_tokens).toBe(
      32000,
    );
  });

  it('rewrites the Claude identity line for the real model (what the router does for non-Anthropic upstreams)', () => {
    const rewritten = chat.buildUpstreamRequest(
      applyIdentity(request, {
        model: 'qwen3-coder',
        vendor: vendorOfModel('openai', 'qwen3-coder'),
        setting: { mode: 'default' },
        statement: undefined,
        rewrite: true,
      }).request,
      'qwen3-coder',
    );
    const system = ((rewritten.body as JsonRecord).messages as JsonRecord[])[0]?.content as string;
    expect(system).toContain('You are qwen3-coder, the model running as the agent inside Claude Code');
    expect(system).not.toMatch(/You are Claude Code/);
  });
});

describe('Anthropic caller → Anthropic upstream', () => {
  const body = anthropic.buildUpstreamRequest(
    anthropic.parseRequest(claudeCodeBody),
    'claude-sonnet-4-5-20250929',
  ).body as JsonRecord;

  it('passes thinking with its signature, cache markers, server tools and error flags through', () => {
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 10000 });
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect((body.system as JsonRecord[])[0]).toMatchObject({ cache_control: { type: 'ephemeral' } });
    expect((body.tools as JsonRecord[])[2]).toEqual({
      type: 'web_search_20250305',
      name: 'web_search',
      max_uses: 5,
    });
    const messages = body.messages as Array<{ content: JsonRecord[] }>;
    expect(messages[1]?.content[0]).toEqual({
      type: 'thinking',
      thinking: 'I will do both.',
      signature: 'sig',
    });
    expect(messages[2]?.content[0]).toMatchObject({
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      is_error: true,
    });
    expect(messages[2]?.content[2]).toEqual({
      type: 'text',
      text: 'Go on.',
      cache_control: { type: 'ephemeral' },
    });
  });
});

describe('OpenAI chat caller → Anthropic upstream', () => {
  const request = chat.parseRequest({
    model: 'claude',
    temperature: 1.5,
    stop: 'END',
    tool_choice: 'required',
    reasoning_effort: 'high',
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    messages: [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rainy' }] },
    ],
  });
  const body = anthropic.buildUpstreamRequest(request, 'claude-sonnet-4-5').body as JsonRecord;

  it('maps required → any, the system message, images, and both tool results into one user turn', () => {
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(body.system).toEqual([{ type: 'text', text: 'Be brief.' }]);
    expect(body.stop_sequences).toEqual(['END']);
    const messages = body.messages as Array<{ role: string; content: JsonRecord[] }>;
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[0]?.content[1]).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' },
    });
    expect(messages[1]?.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
      { type: 'tool_result', tool_use_id: 'call_2', content: 'rainy' },
    ]);
  });

  it('turns a reasoning effort into a thinking budget, without the sampling options thinking refuses', () => {
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 24576 });
    expect(body.temperature).toBeUndefined();
    expect(body.max_tokens).toBeGreaterThan(24576);
  });

  it('keeps a thinking budget derived from an effort below max_tokens, or leaves thinking off', () => {
    const small = anthropic.buildUpstreamRequest({ ...request, maxTokens: 4000 }, 'claude')
      .body as JsonRecord;
    expect(small).toMatchObject({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 3999 } });
    const tiny = anthropic.buildUpstreamRequest({ ...request, maxTokens: 500 }, 'claude').body as JsonRecord;
    expect(tiny.thinking).toBeUndefined();
    expect(tiny.temperature).toBe(1);
  });

  it('clamps temperature to Anthropic’s range and supplies max_tokens when the caller gave none', () => {
    const plain = anthropic.buildUpstreamRequest({ ...request, reasoning: undefined }, 'claude')
      .body as JsonRecord;
    expect(plain.temperature).toBe(1);
    expect(plain.max_tokens).toBe(8192);
  });
});

describe('Responses caller (Codex-shaped) → chat completions and Anthropic upstreams', () => {
  const request = responses.parseRequest({
    model: 'gpt-5-codex',
    instructions: 'You are Codex, based on GPT-5. You are running as a coding agent.',
    store: false,
    stream: true,
    include: ['reasoning.encrypted_content'],
    reasoning: { effort: 'medium', summary: 'auto' },
    tool_choice: 'auto',
    parallel_tool_calls: false,
    tools: [
      { type: 'function', name: 'shell', description: 'Run', parameters: { type: 'object' }, strict: false },
    ],
    input: [
      {
        type: 'message',
        role: 'developer',
        content: [{ type: 'input_text', text: '<environment_context/>' }],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] },
      {
        type: 'reasoning',
        id: 'rs_1',
        summary: [{ type: 'summary_text', text: 'Plan.' }],
        encrypted_content: 'gAAA',
      },
      { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'a.ts' },
      { type: 'web_search_call', id: 'ws_1', status: 'completed' },
    ],
  });

  it('reads instructions, developer messages, function calls and their outputs', () => {
    expect(request.system.map((part) => part.text)).toEqual([
      'You are Codex, based on GPT-5. You are running as a coding agent.',
      '<environment_context/>',
    ]);
    expect(request.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(request.messages[1]?.content.map((part) => part.type)).toEqual(['reasoning', 'tool-call']);
    expect(request.parallelToolCalls).toBe(false);
  });

  it('becomes a chat completions body with tool messages', () => {
    const body = chat.buildUpstreamRequest(request, 'qwen3').body as JsonRecord;
    expect(body.messages).toEqual([
      {
        role: 'system',
        content:
          'You are Codex, based on GPT-5. You are running as a coding agent.\n\n<environment_context/>',
      },
      { role: 'user', content: 'list files' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'shell', arguments: '{"command":["ls"]}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'a.ts' },
    ]);
    expect(body).toMatchObject({
      parallel_tool_calls: false,
      reasoning_effort: 'medium',
      tool_choice: 'auto',
    });
  });

  it('becomes an Anthropic body, dropping OpenAI-encrypted reasoning that Anthropic cannot verify', () => {
    const body = anthropic.buildUpstreamRequest(request, 'claude-sonnet-4-5').body as JsonRecord;
    const messages = body.messages as Array<{ role: string; content: JsonRecord[] }>;
    expect(messages[1]?.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'shell', input: { command: ['ls'] } },
    ]);
    expect(messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'call_1', content: 'a.ts' }]);
    expect(body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('goes back to an OpenAI Responses upstream with its encrypted reasoning and store: false', () => {
    const body = responses.buildUpstreamRequest(request, 'gpt-5-codex').body as JsonRecord;
    expect(body.store).toBe(false);
    expect((body.input as JsonRecord[])[1]).toEqual({
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'Plan.' }],
      encrypted_content: 'gAAA',
    });
  });
});

describe('count_tokens', () => {
  it('parses a count_tokens body (no max_tokens) and estimates a real, non-zero count', () => {
    const { max_tokens: _unused, stream: _stream, ...countBody } = claudeCodeBody;
    const estimate = estimateTokens(anthropic.parseRequest(countBody));
    expect(estimate).toBeGreaterThan(1600); // the image alone is estimated at 1,600
    expect(estimate).toBeLessThan(5000);
  });
});
