import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../gateway/index.js';
import { openDatabase } from './database.js';
import { createUsageRepository, usageMigrations } from './usage.js';

function entry(fields: Partial<UsageRecord>): UsageRecord {
  return {
    startedAt: Date.UTC(2026, 0, 1),
    sessionId: null,
    tokenId: null,
    caller: 'master',
    protocol: 'openai-chat',
    endpoint: 'chat-completions',
    model: 'gpt-4o',
    upstream: 'openai/gpt-4o',
    apiBase: 'http://127.0.0.1:1/v1',
    stream: false,
    status: 200,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    latencyMs: 10,
    timeToFirstTokenMs: null,
    attempts: 1,
    error: null,
    ...fields,
  };
}

describe('usage repository', () => {
  it('records calls and summarises them by model, session and day', () => {
    const usage = createUsageRepository(openDatabase(':memory:', usageMigrations));
    usage.record(entry({}));
    usage.record(
      entry({ stream: true, latencyMs: 30, timeToFirstTokenMs: 4, sessionId: 's1', caller: 'session' }),
    );
    usage.record(
      entry({
        model: 'claude',
        upstream: null,
        status: 404,
        error: 'not configured',
        inputTokens: 0,
        outputTokens: 0,
      }),
    );
    const byModel = usage.summarize('model');
    expect(byModel).toEqual([
      {
        key: 'gpt-4o',
        requests: 2,
        errors: 0,
        inputTokens: 20,
        outputTokens: 10,
        averageLatencyMs: 20,
        averageTimeToFirstTokenMs: 4,
      },
      {
        key: 'claude',
        requests: 1,
        errors: 1,
        inputTokens: 0,
        outputTokens: 0,
        averageLatencyMs: 10,
        averageTimeToFirstTokenMs: null,
      },
    ]);
    expect(usage.summarize('session').map((row) => [row.key, row.requests])).toEqual([
      ['(none)', 2],
      ['s1', 1],
    ]);
    expect(usage.summarize('day')[0]!.key).toBe('2026-01-01');
    expect(usage.list({ sessionId: 's1' })).toMatchObject([
      { stream: true, caller: 'session', timeToFirstTokenMs: 4 },
    ]);
    expect(usage.summarize('model', { since: Date.UTC(2026, 0, 2) })).toEqual([]);
    usage.close();
  });
});
