import type { Migration, SqliteDatabase } from './database.js';

export type SessionState = 'starting' | 'running' | 'ended' | 'failed';

export interface SessionRow {
  id: string;
  createdAt: number;
  endedAt: number | null;
  state: SessionState;
  kind: string;
  command: string[];
  workspace: string;
  driver: string;
  exitCode: number | null;
  /** Free-form facts about the session (rules in force, limits, error text). */
  details: Record<string, unknown>;
}

export const sessionsMigrations: Migration[] = [
  {
    name: '001-sessions',
    sql: `CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL,
      ended_at INTEGER,
      state TEXT NOT NULL,
      kind TEXT NOT NULL,
      command TEXT NOT NULL,
      workspace TEXT NOT NULL,
      driver TEXT NOT NULL,
      exit_code INTEGER,
      details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX sessions_created ON sessions (created_at);`,
  },
];

interface SessionRecord {
  id: string;
  created_at: number;
  ended_at: number | null;
  state: SessionState;
  kind: string;
  command: string;
  workspace: string;
  driver: string;
  exit_code: number | null;
  details: string;
}

function fromRecord(record: SessionRecord): SessionRow {
  return {
    id: record.id,
    createdAt: record.created_at,
    endedAt: record.ended_at,
    state: record.state,
    kind: record.kind,
    command: JSON.parse(record.command) as string[],
    workspace: record.workspace,
    driver: record.driver,
    exitCode: record.exit_code,
    details: JSON.parse(record.details) as Record<string, unknown>,
  };
}

export interface SessionRepository {
  create(session: Omit<SessionRow, 'endedAt' | 'exitCode' | 'state'> & { state?: SessionState }): SessionRow;
  get(id: string): SessionRow | undefined;
  list(options?: { limit?: number }): SessionRow[];
  update(id: string, changes: Partial<Pick<SessionRow, 'state' | 'endedAt' | 'exitCode' | 'details'>>): void;
  /**
   * Marks sessions still starting/running as ended (used at start-up after a crash), except those whose
   * owning process (`details.ownerPid`) `isAlive` says still runs: a concurrent `warren run`, say.
   * Each one says so: `details.endReason` is "crashed" and `details.error` names the process that
   * stopped without ending it (a clean end sets neither).
   */
  endAllRunning(now: number, isAlive?: (pid: number) => boolean): number;
  /** Deletes the session and its recorded flows; false when there was no such session. */
  remove(id: string): boolean;
}

export function createSessionRepository(database: SqliteDatabase): SessionRepository {
  const insert = database.prepare(
    `INSERT INTO sessions (id, created_at, state, kind, command, workspace, driver, details)
     VALUES (@id, @createdAt, @state, @kind, @command, @workspace, @driver, @details)`,
  );
  const selectOne = database.prepare('SELECT * FROM sessions WHERE id = ?');
  const selectMany = database.prepare('SELECT * FROM sessions ORDER BY created_at DESC LIMIT ?');
  return {
    create(session) {
      const row: SessionRow = {
        ...session,
        state: session.state ?? 'starting',
        endedAt: null,
        exitCode: null,
      };
      insert.run({
        ...row,
        command: JSON.stringify(row.command),
        details: JSON.stringify(row.details),
      });
      return row;
    },
    get(id) {
      const record = selectOne.get(id) as SessionRecord | undefined;
      return record ? fromRecord(record) : undefined;
    },
    list(options = {}) {
      return (selectMany.all(options.limit ?? 100) as SessionRecord[]).map(fromRecord);
    },
    update(id, changes) {
      const values: Record<string, unknown> = {
        state: changes.state,
        endedAt: changes.endedAt,
        exitCode: changes.exitCode,
        details: changes.details === undefined ? undefined : JSON.stringify(changes.details),
      };
      const columnOf: Record<string, string> = {
        state: 'state',
        endedAt: 'ended_at',
        exitCode: 'exit_code',
        details: 'details',
      };
      const names = Object.keys(values).filter((name) => values[name] !== undefined);
      if (names.length === 0) return;
      const assignments = names.map((name) => `${columnOf[name]} = @${name}`).join(', ');
      const parameters = Object.fromEntries(names.map((name) => [name, values[name]]));
      database.prepare(`UPDATE sessions SET ${assignments} WHERE id = @id`).run({ ...parameters, id });
    },
    endAllRunning(now, isAlive = () => false) {
      const running = database
        .prepare(`SELECT id, details FROM sessions WHERE state IN ('starting', 'running')`)
        .all() as Array<{ id: string; details: string }>;
      const end = database.prepare(
        `UPDATE sessions SET state = 'ended', ended_at = ?, details = ? WHERE id = ?`,
      );
      let ended = 0;
      for (const { id, details } of running) {
        const parsed = JSON.parse(details) as Record<string, unknown>;
        const owner = parsed.ownerPid;
        if (typeof owner === 'number' && isAlive(owner)) continue;
        const crash = {
          endReason: 'crashed',
          error: `Warren${typeof owner === 'number' ? ` (pid ${owner})` : ''} stopped without ending this session; found at ${new Date(now).toISOString()}`,
        };
        ended += end.run(now, JSON.stringify({ ...parsed, ...crash }), id).changes;
      }
      return ended;
    },
    remove(id) {
      return database.transaction(() => {
        database.prepare('DELETE FROM flows WHERE session_id = ?').run(id);
        return database.prepare('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
      })();
    },
  };
}
