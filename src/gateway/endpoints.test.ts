import { describe, expect, it } from 'vitest';
import { protocolGuess, routeOf } from './endpoints.js';

describe('gateway routes', () => {
  it('accepts paths with and without /v1, ignoring query strings and trailing slashes', () => {
    expect(routeOf('POST', '/v1/messages?beta=true')).toEqual({
      endpoint: 'messages',
      protocol: 'anthropic-messages',
    });
    expect(routeOf('POST', '/messages/count_tokens')).toEqual({
      endpoint: 'count-tokens',
      protocol: 'anthropic-messages',
    });
    expect(routeOf('POST', '/chat/completions/')).toEqual({
      endpoint: 'chat-completions',
      protocol: 'openai-chat',
    });
    expect(routeOf('POST', '/v1/responses')).toEqual({ endpoint: 'responses', protocol: 'openai-responses' });
    expect(routeOf('GET', '/v1/models')).toMatchObject({ endpoint: 'models' });
    expect(routeOf('GET', '/health')).toMatchObject({ endpoint: 'health' });
    expect(routeOf('GET', '/v1/models/openai%2Fgpt-4o')).toMatchObject({
      endpoint: 'model',
      modelId: 'openai/gpt-4o',
    });
    expect(routeOf('GET', '/v1/models/openai/gpt-4o')).toMatchObject({
      endpoint: 'model',
      modelId: 'openai/gpt-4o',
    });
    expect(routeOf('GET', '/v1/models/%E0%A4%A')).toBeUndefined();
  });

  it('reduces an absolute-form URL to its path', () => {
    expect(routeOf('POST', 'http://gateway.warren.internal/v1/messages')).toMatchObject({
      endpoint: 'messages',
    });
    expect(routeOf('GET', 'https://gateway.warren.internal')).toMatchObject({ endpoint: 'health' });
  });

  it('routes nothing else, and guesses the error shape from the path', () => {
    expect(routeOf('GET', '/v1/messages')).toBeUndefined();
    expect(routeOf('POST', '/v1/embeddings')).toBeUndefined();
    expect(routeOf('POST', '/v1/v1/messages')).toBeUndefined();
    expect(protocolGuess('/v1/messages/batches')).toBe('anthropic-messages');
    expect(protocolGuess('/v1/responses/abc')).toBe('openai-responses');
    expect(protocolGuess('/v1/embeddings')).toBe('openai-chat');
  });
});
