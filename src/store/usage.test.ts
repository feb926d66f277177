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
        identityWarnings: 0,
      },
      {
        key: 'claude',
        requests: 1,
        errors: 1,
        inputTokens: 0,
        outputTokens: 0,
        averageLatencyMs: 10,
        averageTimeToFirstTokenMs: null,
        identityWarnings: 0,
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

  it('keeps translation notes and identity claims, counts calls with claims and lists each claim once per upstream', () => {
    const usage = createUsageRepository(openDatabase(':memory:', usageMigrations));
    const claim = 'You are Codex, an agent based on GPT-6.';
    usage.record(entry({ notes: ['service_tier "flex" not sent: Anthropic has no such tier'] }));
    usage.record(entry({ upstream: 'xai/grok-4', identityClaims: [claim], startedAt: 1 }));
    usage.record(
      entry({ upstream: 'xai/grok-4', identityClaims: [claim, 'Your name is Claude.'], startedAt: 2 }),
    );
    usage.record(entry({ upstream: 'openai/qwen', identityClaims: [claim], startedAt: 3 }));
    const [latest, , , first] = usage.list();
    expect(first).toMatchObject({ notes: ['service_tier "flex" not sent: Anthropic has no such tier'] });
    expect(first?.identityClaims).toEqual([]);
    expect(latest?.identityClaims).toEqual([claim]);
    expect(usage.summarize('upstream').map((row) => [row.key, row.identityWarnings])).toEqual([
      ['xai/grok-4', 2],
      ['openai/gpt-4o', 0],
      ['openai/qwen', 1],
    ]);
    expect(usage.identityWarnings()).toEqual([
      { upstream: 'openai/qwen', claim, calls: 1, lastAt: 3 },
      { upstream: 'xai/grok-4', claim, calls: 2, lastAt: 2 },
      { upstream: 'xai/grok-4', claim: 'Your name is Claude.', calls: 1, lastAt: 2 },
    ]);
    expect(usage.identityWarnings({ since: 3 })).toHaveLength(1);
  });
});
