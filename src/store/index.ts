import { openDatabase, type SqliteDatabase } from './database.js';
import { createFlowRepository, flowsMigrations, type FlowRepository } from './flows.js';
import { createSessionRepository, sessionsMigrations, type SessionRepository } from './sessions.js';

export type { Migration, SqliteDatabase } from './database.js';
export type { FlowQuery, FlowRepository, StoredFlow } from './flows.js';
export type { SessionRepository, SessionRow, SessionState } from './sessions.js';

export interface Store {
  database: SqliteDatabase;
  sessions: SessionRepository;
  flows: FlowRepository;
  close(): void;
}

/** Opens Warren's SQLite database (":memory:" for tests) with every table family migrated. */
export function openStore(path: string): Store {
  const database = openDatabase(path, [...sessionsMigrations, ...flowsMigrations]);
  const flows = createFlowRepository(database);
  return {
    database,
    sessions: createSessionRepository(database),
    flows,
    close() {
      flows.close();
      database.close();
    },
  };
}
