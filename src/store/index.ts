import type { FlowRecord } from '../proxy/index.js';
import { authMigrations, createAuthRepository, type AuthRepository } from './auth.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { createFlowRepository, flowsMigrations, type FlowRepository } from './flows.js';
import { createSessionRepository, sessionsMigrations, type SessionRepository } from './sessions.js';
import { createTokenRepository, tokensMigrations, type TokenRepository } from './tokens.js';
import { createUsageRepository, usageMigrations, type UsageRepository } from './usage.js';
import { DEFAULT_MAX_PENDING_BYTES, type WriterStatus } from './batch.js';

export type { AuthRepository, LoginSessionRow, UserRow } from './auth.js';
export type { Migration, SqliteDatabase } from './database.js';
export { DEFAULT_MAX_PENDING_BYTES, type WriterStatus } from './batch.js';
export type { FlowQuery, FlowRepository, RecordingTotals, StoredFlow } from './flows.js';
export type { SessionRepository, SessionRow, SessionState } from './sessions.js';
export type { NewTokenRow, TokenRepository, TokenRow } from './tokens.js';
export type {
  IdentityWarning,
  StoredUsage,
  UsageGroup,
  UsageQuery,
  UsageRepository,
  UsageSummaryRow,
} from './usage.js';

export interface Store {
  database: SqliteDatabase;
  sessions: SessionRepository;
  flows: FlowRepository;
  tokens: TokenRepository;
  usage: UsageRepository;
  auth: AuthRepository;
  /** The flow and usage writers' state: rows waiting for the disk, rows given up, the last refusal. */
  writeStatus(): WriterStatus[];
  close(): void;
}

/** One line for a log or a notice about a writer's state (see StoreOptions.onWriteStatus). */
export function describeWriteStatus(status: WriterStatus): string {
  const dropped = status.droppedRows > 0 ? `; ${status.droppedRows} given up so far` : '';
  if (status.lostAtClose !== undefined) {
    return `the store still refuses ${status.records} (${status.error ?? 'error'}) as Warren stops: ${status.lostAtClose} not recorded`;
  }
  if (status.error === undefined) {
    return `the store takes ${status.records} again; nothing is waiting${dropped}`;
  }
  return (
    `the store refuses ${status.records} (${status.error}); ${status.pendingRows} held in memory ` +
    `(${Math.round(status.pendingBytes / 1024)} KiB of at most ${DEFAULT_MAX_PENDING_BYTES / 1024 / 1024} MiB) ` +
    `until the disk takes them again${dropped}`
  );
}

export interface StoreOptions {
  onFlowRecorded?: (flow: FlowRecord) => void;
  /**
   * Told when the disk starts refusing flows or usage, when rows are given up past the bound, and when
   * it takes them again. Absent: a line on stderr (describeWriteStatus).
   */
  onWriteStatus?: (status: WriterStatus) => void;
}

/** Opens Warren's SQLite database (":memory:" for tests) with every table family migrated. */
export function openStore(path: string, options: StoreOptions = {}): Store {
  const database = openDatabase(path, [
    ...sessionsMigrations,
    ...flowsMigrations,
    ...tokensMigrations,
    ...usageMigrations,
    ...authMigrations,
  ]);
  const onStatus =
    options.onWriteStatus ??
    ((status: WriterStatus) => process.stderr.write(`warren: ${describeWriteStatus(status)}\n`));
  const flows = createFlowRepository(database, {
    onStatus,
    ...(options.onFlowRecorded ? { onRecorded: options.onFlowRecorded } : {}),
  });
  const usage = createUsageRepository(database, { onStatus });
  return {
    database,
    sessions: createSessionRepository(database),
    flows,
    tokens: createTokenRepository(database),
    usage,
    auth: createAuthRepository(database),
    writeStatus: () => [flows.status(), usage.status()],
    close() {
      flows.close();
      usage.close();
      database.close();
    },
  };
}
