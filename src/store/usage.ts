import type { UsageRecord, UsageSink } from '../gateway/index.js';
import { createRecordWriter, type WriterStatus } from './batch.js';
import type { Migration, SqliteDatabase } from './database.js';

export const usageMigrations: Migration[] = [
  {
    name: 'gateway-usage-001',
    sql: `CREATE TABLE gateway_usage (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      started_at INTEGER NOT NULL,
      session_id TEXT,
      token_id TEXT,
      caller TEXT NOT NULL,
      protocol TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      model TEXT NOT NULL,
      upstream TEXT,
      api_base TEXT,
      stream INTEGER NOT NULL,
      status INTEGER NOT NULL,
      input_tokens INTEGER NOT NULL,
      output_tokens INTEGER NOT NULL,
      cache_read_tokens INTEGER NOT NULL,
      cache_write_tokens INTEGER NOT NULL,
      reasoning_tokens INTEGER NOT NULL,
      latency_ms REAL NOT NULL,
      ttft_ms REAL,
      attempts INTEGER NOT NULL,
      error TEXT
    );
    CREATE INDEX gateway_usage_started ON gateway_usage (started_at);
    CREATE INDEX gateway_usage_session ON gateway_usage (session_id);`,
  },
];

export type UsageGroup = 'model' | 'upstream' | 'token' | 'session' | 'day';

export interface UsageQuery {
  /** Epoch milliseconds; only calls that started at or after it. */
  since?: number;
  sessionId?: string;
  tokenId?: string;
}

export interface UsageSummaryRow {
  /** The value of the grouping column ('(none)' when it was empty, e.g. calls made with the master key). */
  key: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  averageLatencyMs: number;
  /** Over streamed calls that produced a first token; null when there were none. */
  averageTimeToFirstTokenMs: number | null;
}

export interface StoredUsage extends UsageRecord {
  seq: number;
}

export interface UsageRepository extends UsageSink {
  /** Retries the rows the disk refused so far. */
  flush(): void;
  /** Rows held in memory because the disk refused them, and rows given up. */
  status(): WriterStatus;
  summarize(groupBy: UsageGroup, query?: UsageQuery): UsageSummaryRow[];
  list(query?: UsageQuery & { limit?: number }): StoredUsage[];
  /** Stops retrying after a last attempt. */
  close(): void;
}

const groupColumns: Record<UsageGroup, string> = {
  model: 'model',
  upstream: 'upstream',
  token: 'token_id',
  session: 'session_id',
  day: "strftime('%Y-%m-%d', started_at / 1000, 'unixepoch')",
};

interface UsageDatabaseRow {
  seq: number;
  started_at: number;
  session_id: string | null;
  token_id: string | null;
  caller: UsageRecord['caller'];
  protocol: string;
  endpoint: string;
  model: string;
  upstream: string | null;
  api_base: string | null;
  stream: number;
  status: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  latency_ms: number;
  ttft_ms: number | null;
  attempts: number;
  error: string | null;
}

function fromRow(row: UsageDatabaseRow): StoredUsage {
  return {
    seq: row.seq,
    startedAt: row.started_at,
    sessionId: row.session_id,
    tokenId: row.token_id,
    caller: row.caller,
    protocol: row.protocol,
    endpoint: row.endpoint,
    model: row.model,
    upstream: row.upstream,
    apiBase: row.api_base,
    stream: row.stream === 1,
    status: row.status,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    reasoningTokens: row.reasoning_tokens,
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.ttft_ms,
    attempts: row.attempts,
    error: row.error,
  };
}

function whereOf(query: UsageQuery): { sql: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    where.push(condition);
    values.push(value);
  };
  if (query.since !== undefined) add('started_at >= ?', query.since);
  if (query.sessionId !== undefined) add('session_id = ?', query.sessionId);
  if (query.tokenId !== undefined) add('token_id = ?', query.tokenId);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', values };
}

/**
 * Usage arrives on the gateway's request path and is written as it is recorded, one commit each; a disk
 * that refuses it gets it again later (batch.ts), as for flows.
 */
export function createUsageRepository(
  database: SqliteDatabase,
  options: {
    onStatus?: (status: WriterStatus) => void;
    maxPendingBytes?: number;
    retryIntervalMs?: number;
  } = {},
): UsageRepository {
  const insert = database.prepare(
    `INSERT INTO gateway_usage (started_at, session_id, token_id, caller, protocol, endpoint, model, upstream,
       api_base, stream, status, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
       reasoning_tokens, latency_ms, ttft_ms, attempts, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOne = (entry: UsageRecord) =>
    insert.run(
      entry.startedAt,
      entry.sessionId,
      entry.tokenId,
      entry.caller,
      entry.protocol,
      entry.endpoint,
      entry.model,
      entry.upstream,
      entry.apiBase,
      entry.stream ? 1 : 0,
      entry.status,
      entry.inputTokens,
      entry.outputTokens,
      entry.cacheReadTokens,
      entry.cacheWriteTokens,
      entry.reasoningTokens,
      entry.latencyMs,
      entry.timeToFirstTokenMs,
      entry.attempts,
      entry.error,
    );
  const insertMany = database.transaction((entries: UsageRecord[]) => entries.forEach(insertOne));
  const writer = createRecordWriter<UsageRecord>(
    (entries) => (entries.length === 1 ? insertOne(entries[0] as UsageRecord) : insertMany(entries)),
    {
      records: 'usage',
      // A usage row is a few hundred bytes of numbers and names.
      sizeOf: (entry) => 512 + (entry.error?.length ?? 0),
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
      ...(options.maxPendingBytes !== undefined ? { maxPendingBytes: options.maxPendingBytes } : {}),
      ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    },
  );
  const flush = writer.flush;

  return {
    record(entry) {
      writer.push(entry);
    },
    flush,
    summarize(groupBy, query = {}) {
      flush();
      const where = whereOf(query);
      const column = groupColumns[groupBy];
      const rows = database
        .prepare(
          `SELECT coalesce(${column}, '(none)') AS key, count(*) AS requests,
             sum(CASE WHEN status >= 400 OR error IS NOT NULL THEN 1 ELSE 0 END) AS errors,
             sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
             avg(latency_ms) AS latency, avg(ttft_ms) AS ttft
           FROM gateway_usage ${where.sql} GROUP BY 1 ORDER BY requests DESC, key`,
        )
        .all(...where.values) as {
        key: string;
        requests: number;
        errors: number;
        input_tokens: number;
        output_tokens: number;
        latency: number;
        ttft: number | null;
      }[];
      return rows.map((row) => ({
        key: row.key,
        requests: row.requests,
        errors: row.errors,
        inputTokens: row.input_tokens,
        outputTokens: row.output_tokens,
        averageLatencyMs: row.latency,
        averageTimeToFirstTokenMs: row.ttft,
      }));
    },
    list(query = {}) {
      flush();
      const where = whereOf(query);
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 100_000);
      const rows = database
        .prepare(`SELECT * FROM gateway_usage ${where.sql} ORDER BY seq DESC LIMIT ?`)
        .all(...where.values, limit) as UsageDatabaseRow[];
      return rows.map(fromRow);
    },
    status: writer.status,
    close: writer.close,
  };
}
