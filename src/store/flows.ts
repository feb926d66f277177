import type { FlowRecord, FlowSink } from '../proxy/index.js';
import { createRecordWriter, type WriterStatus } from './batch.js';
import type { Migration, SqliteDatabase } from './database.js';

export const flowsMigrations: Migration[] = [
  {
    name: '002-flows',
    sql: `CREATE TABLE flows (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      session_id TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      method TEXT NOT NULL,
      host TEXT NOT NULL,
      status INTEGER,
      decision TEXT NOT NULL,
      meta TEXT NOT NULL,
      request_body BLOB,
      response_body BLOB
    );
    CREATE INDEX flows_session ON flows (session_id, seq);
    CREATE INDEX flows_host ON flows (host);`,
  },
  {
    // What each flow cost the store and what the proxy's recording limits left out of it, so a
    // session's totals are a sum, not a pass over every record (src/proxy/recording-budget.ts).
    name: 'flows-recording-001',
    sql: `ALTER TABLE flows ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE flows ADD COLUMN dropped_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE flows ADD COLUMN metadata_only INTEGER NOT NULL DEFAULT 0;`,
  },
];

export interface FlowQuery {
  sessionId?: string;
  host?: string;
  status?: number;
  method?: string;
  decision?: 'allow' | 'deny';
  /** Return flows with seq greater than this (paging). */
  after?: number;
  limit?: number;
  /** Bodies are loaded only when asked for. */
  withBodies?: boolean;
}

export interface StoredFlow extends FlowRecord {
  seq: number;
}

/** What one session's flows cost the store, and what the recording limits left out. */
export interface RecordingTotals {
  flows: number;
  /** Bytes of flow records (metadata and bodies) in the store. */
  storedBytes: number;
  /** Flows kept as metadata only because the session's recording budget was spent. */
  metadataOnly: number;
  /** Bytes of headers, bodies and texts seen but not stored (FlowRecording.droppedBytes, summed). */
  droppedBytes: number;
}

export interface FlowRepository extends FlowSink {
  /** Writes the flows queued this turn and retries those the disk refused. */
  flush(): void;
  /** Calls back once every flow recorded so far is stored (the next commit, within this event-loop turn). */
  whenStored(callback: () => void): void;
  /** Flows held in memory because the disk refused them, and flows given up. */
  status(): WriterStatus;
  query(query?: FlowQuery): StoredFlow[];
  get(id: string): StoredFlow | undefined;
  count(sessionId: string): number;
  recordingTotals(sessionId: string): RecordingTotals;
  /** Stops retrying after a last attempt. */
  close(): void;
}

interface FlowDatabaseRow {
  seq: number;
  meta: string;
  request_body: Buffer | null;
  response_body: Buffer | null;
}

const emptyBody = Buffer.alloc(0);

function fromRow(row: FlowDatabaseRow): StoredFlow {
  const flow = JSON.parse(row.meta) as StoredFlow;
  flow.seq = row.seq;
  flow.request.body.data = row.request_body ?? emptyBody;
  if (flow.response) flow.response.body.data = row.response_body ?? emptyBody;
  return flow;
}

/**
 * The record without its body bytes, which live in their own columns. Copies without `data` rather than
 * a JSON.stringify replacer, which runs for every key: 3–6 µs per flow instead of 11–16.
 */
function metaOf(flow: FlowRecord): string {
  const { data: _requestData, ...requestBody } = flow.request.body;
  const meta: Record<string, unknown> = { ...flow, request: { ...flow.request, body: requestBody } };
  if (flow.response) {
    const { data: _responseData, ...responseBody } = flow.response.body;
    meta.response = { ...flow.response, body: responseBody };
  }
  return JSON.stringify(meta);
}

/** What a flow held in memory costs: its bodies and about a kilobyte of metadata. */
function flowSize(flow: FlowRecord): number {
  return 1024 + flow.request.body.data.length + (flow.response?.body.data.length ?? 0);
}

/**
 * Flows arrive on the proxy's hot path: `record` queues, and the flows of one event-loop turn are written
 * in one commit (batch.ts); the proxy waits for it (`whenStored`) before it releases a response's last
 * bytes, so a flow is durable before its response is whole at the agent.
 */
export function createFlowRepository(
  database: SqliteDatabase,
  options: {
    onRecorded?: (flow: FlowRecord) => void;
    onStatus?: (status: WriterStatus) => void;
    maxPendingBytes?: number;
    retryIntervalMs?: number;
  } = {},
): FlowRepository {
  const insert = database.prepare(
    `INSERT OR IGNORE INTO flows (id, session_id, started_at, method, host, status, decision, meta, request_body,
       response_body, stored_bytes, dropped_bytes, metadata_only)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOne = (flow: FlowRecord) => {
    const meta = metaOf(flow);
    const requestBody = flow.request.body.data;
    const responseBody = flow.response?.body.data ?? emptyBody;
    insert.run(
      flow.id,
      flow.sessionId,
      flow.startedAt,
      flow.method,
      flow.host,
      flow.response?.status ?? null,
      flow.policy.decision,
      meta,
      requestBody.length > 0 ? requestBody : null,
      responseBody.length > 0 ? responseBody : null,
      Buffer.byteLength(meta) + requestBody.length + responseBody.length,
      flow.recording?.droppedBytes ?? 0,
      flow.recording?.metadataOnly ? 1 : 0,
    );
  };
  const insertMany = database.transaction((flows: FlowRecord[]) => flows.forEach(insertOne));
  const writer = createRecordWriter<FlowRecord>(
    // One row needs no explicit transaction: the INSERT commits on its own.
    (flows) => (flows.length === 1 ? insertOne(flows[0] as FlowRecord) : insertMany(flows)),
    {
      records: 'flows',
      sizeOf: flowSize,
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
      ...(options.maxPendingBytes !== undefined ? { maxPendingBytes: options.maxPendingBytes } : {}),
      ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    },
  );
  const flush = writer.flush;

  return {
    record(flow) {
      writer.push(flow);
      options.onRecorded?.(flow);
    },
    flush,
    whenStored: writer.afterCommit,
    status: writer.status,
    query(query = {}) {
      flush();
      const filters: [string, unknown][] = [
        ['session_id = ?', query.sessionId],
        ['host = ?', query.host],
        ['status = ?', query.status],
        ['method = ?', query.method?.toUpperCase()],
        ['decision = ?', query.decision],
        ['seq > ?', query.after],
      ];
      const present = filters.filter(([, value]) => value !== undefined);
      const where = present.map(([clause]) => clause);
      const values = present.map(([, value]) => value);
      const columns = query.withBodies ? 'seq, meta, request_body, response_body' : 'seq, meta';
      const sql = `SELECT ${columns} FROM flows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
      values.push(Math.min(Math.max(query.limit ?? 1000, 1), 100_000));
      return (database.prepare(sql).all(...values) as FlowDatabaseRow[]).map(fromRow);
    },
    get(id) {
      flush();
      const row = database
        .prepare('SELECT seq, meta, request_body, response_body FROM flows WHERE id = ?')
        .get(id) as FlowDatabaseRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    count(sessionId) {
      flush();
      return (
        database.prepare('SELECT count(*) AS n FROM flows WHERE session_id = ?').get(sessionId) as {
          n: number;
        }
      ).n;
    },
    recordingTotals(sessionId) {
      flush();
      const row = database
        .prepare(
          `SELECT count(*) AS flows, total(stored_bytes) AS storedBytes, total(metadata_only) AS metadataOnly,
             total(dropped_bytes) AS droppedBytes FROM flows WHERE session_id = ?`,
        )
        .get(sessionId) as RecordingTotals;
      return {
        flows: row.flows,
        storedBytes: row.storedBytes,
        metadataOnly: row.metadataOnly,
        droppedBytes: row.droppedBytes,
      };
    },
    close: writer.close,
  };
}
