/** Test data shared by the translation tests. */

/** An MCP tool name over OpenAI's 64-character limit. */
export const longMcpName =
  'mcp__github_enterprise_server__create_or_update_pull_request_review_comment_thread';

/**
 * A Claude Code-shaped request: system blocks with cache markers, thinking, tools (one with a long MCP
 * name, one Anthropic server tool), parallel calls, a failed tool result with an image.
 */
export const claudeCodeBody = {
  model: 'claude-sonnet-4-5',
  max_tokens: 32000,
  stream: true,
  system: [
    {
      type: 'text',
      text: "You are Claude Code, Anthropic's official CLI for Claude.",
      cache_control: { type: 'ephemeral' },
    },
    { type: 'text', text: 'Be concise.' },
  ],
  thinking: { type: 'enabled', budget_tokens: 10000 },
  tool_choice: { type: 'any' },
  stop_sequences: ['</done>'],
  tools: [
    {
      name: 'Bash',
      description: 'Run a command',
      input_schema: { type: 'object', properties: { command: { type: 'string' } } },
    },
    { name: longMcpName, description: 'Comment', input_schema: { type: 'object', properties: {} } },
    { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
  ],
  messages: [
    { role: 'user', content: 'Take a screenshot and run ls' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I will do both.', signature: 'sig' },
        { type: 'text', text: 'Running.' },
        { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls /nope' } },
        { type: 'tool_use', id: 'toolu_2', name: longMcpName, input: {} },
      ],
    },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          is_error: true,
          content: [
            { type: 'text', text: 'ls: cannot access' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: 'ok' },
        { type: 'text', text: 'Go on.', cache_control: { type: 'ephemeral' } },
      ],
    },
  ],
};
