// Warren's egress proxy for the benchmark, with a sink that does real work. By default the sink is
// Warren's own store (dist/store: one commit per flow, written before the response's last byte);
// WARREN_BENCH_SINK=batched uses a sink that batch-inserts every 20 ms instead (Warren before it made
// flows durable at once), to measure what durability costs.
// Prints its port on stdout; prints the number of recorded flows on stderr when it gets SIGTERM.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, createEgressProxy, policyFromArguments } from '../dist/proxy/index.js';
import { openStore } from '../dist/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
const database = new Database(join(dir, 'flows.db'));
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
database.exec(`CREATE TABLE flows (id TEXT PRIMARY KEY, session_id TEXT, started_at INTEGER, duration_ms REAL,
  method TEXT, url TEXT, status INTEGER, request_headers TEXT, response_headers TEXT,
  request_body BLOB, request_size INTEGER, response_body BLOB, response_size INTEGER, policy TEXT, tls TEXT)`);
const insert = database.prepare(`INSERT INTO flows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const insertAll = database.transaction((flows) => {
  for (const flow of flows) {
    insert.run(
      flow.id,
      flow.sessionId,
      flow.startedAt,
      flow.durationMs,
      flow.method,
      flow.url,
      flow.response?.status ?? null,
      JSON.stringify(flow.request.headers),
      JSON.stringify(flow.response?.headers ?? []),
      flow.request.body.data,
      flow.request.body.size,
      flow.response?.body.data ?? null,
      flow.response?.body.size ?? 0,
      flow.policy.decision,
      flow.tls.mode,
    );
  }
});
let batch = [];
let recorded = 0;
let countRecorded = () => recorded;
let scheduled = false;
let flush = () => {
  scheduled = false;
  const flows = batch;
  batch = [];
  insertAll(flows);
  recorded += flows.length;
};
const batchedSink = {
  record(flow) {
    batch.push(flow);
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 20);
    }
  },
};

const store = process.env.WARREN_BENCH_SINK === 'batched' ? undefined : openStore(join(dir, 'warren.db'));
const sink = store ? store.flows : batchedSink;
if (store) {
  flush = () => undefined;
  countRecorded = () => store.flows.count('bench');
}

const ca = await createCertificateAuthority({ dir: join(dir, 'ca') });
const proxy = createEgressProxy({ ca, sink });
const listener = await proxy.listen(
  { port: 0 },
  { id: 'bench', policy: policyFromArguments({ allow: ['127.0.0.1'] }) },
);
process.stdout.write(`${listener.address}\n`);
process.on('SIGTERM', () => {
  flush();
  process.stderr.write(`recorded ${countRecorded()}\n`);
  process.exit(0);
});
