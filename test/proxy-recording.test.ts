import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { flowsCommand } from '../src/cli/commands/flows.js';
import { openHome } from '../src/config/index.js';
import {
  createCertificateAuthority,
  createEgressProxy,
  policyFromArguments,
  type EgressProxy,
  type Header,
} from '../src/proxy/index.js';
import { openStore, type Store, type StoredFlow } from '../src/store/index.js';
import { connectPlain, responseReader } from './helpers/raw-http.js';
import { testLookup } from './helpers/upstream-proxy-harness.js';

/**
 * Recording floods: a session that sends a thousand refused requests with 60 KiB of headers each must not
 * make Warren write 60 MB. Each refusal keeps its row; past the session's recording budget the rows keep
 * their metadata only, and what they left out is counted, per flow and per session.
 */

const FLOOD = 1000;
const CONNECTIONS = 8;
/** 60 KiB of headers per request, in four headers of 15 KiB: the first fits the 16 KiB per-flow cap. */
const PIECE = 15 * 1024;
const PIECES = 4;
const BUDGET = 4 * 1024 * 1024;
/** A metadata-only record (its meta JSON) stays under this, whatever the request looked like. */
const METADATA_ROW_BYTES = 1536;

let dir: string | undefined;
let proxy: EgressProxy | undefined;
let store: Store | undefined;

afterEach(async () => {
  await proxy?.close();
  store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  proxy = undefined;
  store = undefined;
  dir = undefined;
});

/** Bytes of the database file once everything is written and the WAL is folded back into it. */
async function databaseBytes(current: Store, path: string): Promise<number> {
  current.flows.flush();
  current.database.pragma('wal_checkpoint(TRUNCATE)');
  const wal = await stat(`${path}-wal`).catch(() => undefined);
  expect(wal?.size ?? 0).toBe(0);
  return (await stat(path)).size;
}

const headerBytes = (headers: readonly Header[]) =>
  headers.reduce((total, [name, value]) => total + name.length + value.length, 0);

const floodHeaders: Header[] = Array.from({ length: PIECES }, (_, index) => [
  `X-Big-${index}`,
  'x'.repeat(PIECE),
]);

async function flood(port: number): Promise<number[]> {
  const head = floodHeaders.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const statuses: number[] = [];
  const perConnection = FLOOD / CONNECTIONS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, connection) => {
      const socket = await connectPlain(port);
      const reader = responseReader(socket);
      for (let index = 0; index < perConnection; index++) {
        const path = `/steal/${connection}-${index}`;
        socket.write(`GET http://evil.test${path} HTTP/1.1\r\nHost: evil.test\r\n${head}\r\n`);
      }
      const responses = await reader.responses(perConnection, 60_000);
      statuses.push(...responses.map((response) => response.status));
      socket.destroy();
    }),
  );
  return statuses;
}

describe('recording floods', () => {
  it('a thousand refused requests with 60 KiB headers: every refusal recorded, the store grows by the budget, not 60 MB', async () => {
    dir = await mkdtemp(join(tmpdir(), 'warren-flood-'));
    const home = openHome({ WARREN_HOME: dir });
    store = openStore(home.databasePath);
    const ca = await createCertificateAuthority({ dir: home.caDir });
    proxy = createEgressProxy({
      ca,
      sink: store.flows,
      lookup: testLookup,
      recordingBudgetBytes: BUDGET,
    });
    const listener = await proxy.listen(
      { port: 0 },
      { id: 'flooder', policy: policyFromArguments({ allow: ['api.test'] }) },
    );
    const before = await databaseBytes(store, home.databasePath);

    const started = Date.now();
    const statuses = await flood(listener.address as number);
    const seconds = (Date.now() - started) / 1000;
    expect(statuses).toHaveLength(FLOOD);
    expect(new Set(statuses)).toEqual(new Set([403]));
    await proxy.close();
    proxy = undefined;

    const grown = (await databaseBytes(store, home.databasePath)) - before;
    const flows = store.flows.query({ sessionId: 'flooder', limit: 100_000, withBodies: true });
    // Every refusal keeps its row, with what matters: method, host, path, status, decision.
    expect(flows).toHaveLength(FLOOD);
    for (const flow of flows) {
      expect(flow).toMatchObject({ method: 'GET', host: 'evil.test', response: { status: 403 } });
      expect(flow.policy.decision).toBe('deny');
      expect(flow.url).toMatch(/^http:\/\/evil\.test\/steal\/\d+-\d+$/);
    }
    const full = flows.filter((flow) => !flow.recording?.metadataOnly);
    const metadataOnly = flows.filter((flow) => flow.recording?.metadataOnly);
    expect(full.length).toBeGreaterThan(0);
    expect(metadataOnly.length).toBeGreaterThan(FLOOD / 2);
    // Once spent, spent: every metadata-only flow started after the last full one was admitted.
    expect(Math.min(...metadataOnly.map((flow) => flow.seq))).toBeGreaterThan(
      Math.max(...full.map((flow) => flow.seq)),
    );
    // What the full flows stored stays within the budget (headers capped at 16 KiB each).
    const stored = (flow: StoredFlow) =>
      headerBytes(flow.request.headers) +
      headerBytes(flow.response!.headers) +
      flow.request.body.data.length +
      flow.response!.body.data.length;
    expect(full.reduce((total, flow) => total + stored(flow), 0)).toBeLessThanOrEqual(BUDGET);

    // The counters are exact: for every flow, what it stored plus what it left out is what it had.
    const reference = full[0]!;
    for (const flow of flows) {
      const had =
        headerBytes([['Host', 'evil.test'], ...floodHeaders]) +
        headerBytes(reference.response!.headers) +
        flow.response!.body.size;
      expect(flow.recording!.droppedBytes + stored(flow), flow.url).toBe(had);
    }
    for (const flow of metadataOnly) {
      expect(flow.request.headers).toEqual([]);
      const meta = JSON.stringify(flow, (key, value: unknown) => (key === 'data' ? undefined : value));
      expect(meta.length).toBeLessThan(METADATA_ROW_BYTES);
    }
    const totals = store.flows.recordingTotals('flooder');
    expect(totals).toMatchObject({ flows: FLOOD, metadataOnly: metadataOnly.length });
    expect(totals.droppedBytes).toBe(flows.reduce((total, flow) => total + flow.recording!.droppedBytes, 0));
    expect(totals.droppedBytes).toBeGreaterThan(FLOOD * (PIECES - 1) * PIECE);

    // Bytes actually written to the database file: the budget plus a bounded record per flow (its
    // metadata, index entries and page overhead), where unbounded recording wrote over 60 MB.
    const bound = BUDGET + FLOOD * 2 * 1024;
    process.stdout.write(
      `flood: ${FLOOD} refusals in ${seconds.toFixed(1)} s, database grew ${grown} B (bound ${bound} B), ` +
        `${full.length} full, ${metadataOnly.length} metadata only, ${totals.droppedBytes} B not recorded\n`,
    );
    expect(grown).toBeLessThan(bound);
    expect(totals.storedBytes).toBeLessThan(bound);

    // `warren flows` shows it, per flow and per session.
    store.close();
    store = undefined;
    let output = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        output += chunk.toString();
        callback();
      },
    });
    const code = await flowsCommand.run(['--session', 'flooder', '--limit', '2000'], {
      env: { WARREN_HOME: dir },
      stdin: process.stdin,
      stdout,
      stderr: stdout,
      cwd: dir,
    });
    expect(code).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(FLOOD + 1);
    expect(lines.filter((line) => line.includes('[metadata only, '))).toHaveLength(metadataOnly.length);
    expect(lines.at(-1)).toBe(
      `session flooder: ${FLOOD} flows, ${totals.storedBytes} B stored, ${metadataOnly.length} kept as metadata only ` +
        `(the session's recording budget was spent), ${totals.droppedBytes} B of headers, bodies and long texts not recorded`,
    );
  }, 120_000);
});
