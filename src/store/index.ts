import type { FlowRecord } from '../proxy/index.js';
import { authMigrations, createAuthRepository, type AuthRepository } from './auth.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { createFlowRepository, flowsMigrations, type FlowRepository } from './flows.js';
import { createSessionRepository, sessionsMigrations, type SessionRepository } from './sessions.js';
import { createTokenRepository, tokensMigrations, type TokenRepository } from './tokens.js';
import { createUsageRepository, usageMigrations, type UsageRepository } from './usage.js';

export type { AuthRepository, LoginSessionRow, UserRow } from './auth.js';
export type { Migration, SqliteDatabase } from './database.js';
export type { FlowQuery, FlowRepository, RecordingTotals, StoredFlow } from './flows.js';
export type { SessionRepository, SessionRow, SessionState } from './sessions.js';
export type { NewTokenRow, TokenRepository, TokenRow } from './tokens.js';
export type { StoredUsage, UsageGroup, UsageQuery, UsageRepository, UsageSummaryRow } from './usage.js';

export interface Store {
  database: SqliteDatabase;
  sessions: SessionRepository;
  flows: FlowRepository;
  tokens: TokenRepository;
  usage: UsageRepository;
  auth: AuthRepository;
  close(): void;
}

/** Opens Warren's SQLite database (":memory:" for tests) with every table family migrated. */
export function openStore(
  path: string,
  options: { onFlowRecorded?: (flow: FlowRecord) => void } = {},
): Store {
  const database = openDatabase(path, [
    ...sessionsMigrations,
    ...flowsMigrations,
    ...tokensMigrations,
    ...usageMigrations,
    ...authMigrations,
  ]);
  const flows = createFlowRepository(
    database,
    options.onFlowRecorded ? { onRecorded: options.onFlowRecorded } : {},
  );
  const usage = createUsageRepository(database);
  return {
    database,
    sessions: createSessionRepository(database),
    flows,
    tokens: createTokenRepository(database),
    usage,
    auth: createAuthRepository(database),
    close() {
      flows.close();
      usage.close();
      database.close();
    },
  };
}
