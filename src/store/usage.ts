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
  {
    // JSON arrays of strings, NULL when empty: what the translation left out, and identity claims.
    name: 'gateway-usage-002-notes',
    sql: `ALTER TABLE gateway_usage ADD COLUMN notes TEXT;
    ALTER TABLE gateway_usage ADD COLUMN identity_claims TEXT;`,
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
  /** Calls whose model was told another vendor's identity (see UsageRecord.identityClaims). */
  identityWarnings: number;
}

export interface StoredUsage extends UsageRecord {
  seq: number;
  notes: string[];
  identityClaims: string[];
}

/** One identity claim as `warren usage` shows it: which upstream model was told what, how often. */
export interface IdentityWarning {
  upstream: string;
  claim: string;
  calls: number;
  /** Epoch milliseconds of the latest call that carried it. */
  lastAt: number;
}

export interface UsageRepository extends UsageSink {
  /** Retries the rows the disk refused so far. */
  flush(): void;
  /** Rows held in memory because the disk refused them, and rows given up. */
  status(): WriterStatus;
  summarize(groupBy: UsageGroup, query?: UsageQuery): UsageSummaryRow[];
  list(query?: UsageQuery & { limit?: number }): StoredUsage[];
  /** The distinct identity claims of the most recent calls that had any (at most `limit` calls read). */
  identityWarnings(query?: UsageQuery & { limit?: number }): IdentityWarning[];
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
  notes: string | null;
  identity_claims: string | null;
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
    notes: listOf(row.notes),
    identityClaims: listOf(row.identity_claims),
  };
}

/** A JSON array column: NULL (and anything unreadable) reads as none. */
function listOf(column: string | null): string[] {
  if (column === null) return [];
  try {
    const value = JSON.parse(column) as unknown;
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function columnOf(list: string[] | undefined): string | null {
  return list && list.length > 0 ? JSON.stringify(list) : null;
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
       reasoning_tokens, latency_ms, ttft_ms, attempts, error, notes, identity_claims)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      columnOf(entry.notes),
      columnOf(entry.identityClaims),
    );
  const insertMany = database.transaction((entries: UsageRecord[]) => entries.forEach(insertOne));
  const writer = createRecordWriter<UsageRecord>(
    (entries) => (entries.length === 1 ? insertOne(entries[0] as UsageRecord) : insertMany(entries)),
    {
      records: 'usage',
      // A usage row is a few hundred bytes of numbers and names.
      sizeOf: (entry) =>
        512 +
        (entry.error?.length ?? 0) +
        [...(entry.notes ?? []), ...(entry.identityClaims ?? [])].reduce((sum, text) => sum + text.length, 0),
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
             avg(latency_ms) AS latency, avg(ttft_ms) AS ttft,
             sum(CASE WHEN identity_claims IS NOT NULL THEN 1 ELSE 0 END) AS identity_warnings
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
        identity_warnings: number;
      }[];
      return rows.map((row) => ({
        key: row.key,
        requests: row.requests,
        errors: row.errors,
        inputTokens: row.input_tokens,
        outputTokens: row.output_tokens,
        averageLatencyMs: row.latency,
        averageTimeToFirstTokenMs: row.ttft,
        identityWarnings: row.identity_warnings,
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
    identityWarnings(query = {}) {
      flush();
      const where = whereOf(query);
      const limit = Math.min(Math.max(query.limit ?? 1000, 1), 100_000);
      const rows = database
        .prepare(
          `SELECT upstream, started_at, identity_claims FROM gateway_usage
           ${where.sql ? `${where.sql} AND` : 'WHERE'} identity_claims IS NOT NULL ORDER BY seq DESC LIMIT ?`,
        )
        .all(...where.values, limit) as {
        upstream: string | null;
        started_at: number;
        identity_claims: string;
      }[];
      const warnings = new Map<string, IdentityWarning>();
      for (const row of rows) {
        for (const claim of listOf(row.identity_claims)) {
          const upstream = row.upstream ?? '(none)';
          const key = `${upstream}\n${claim}`;
          const known = warnings.get(key);
          if (known) known.calls += 1;
          else warnings.set(key, { upstream, claim, calls: 1, lastAt: row.started_at });
        }
      }
      return [...warnings.values()];
    },
    status: writer.status,
    close: writer.close,
  };
}
