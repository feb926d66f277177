import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';

export type SqliteDatabase = Database.Database;

/** One schema step of one table family. Names are unique and never change once shipped. */
export interface Migration {
  name: string;
  sql: string;
}

/**
 * Opens (creating if needed) the SQLite database at `path` (":memory:" for tests), in WAL mode,
 * and applies every migration not yet applied, in order, each in its own transaction.
 */
export function openDatabase(path: string, migrations: Migration[]): SqliteDatabase {
  const isNew = path !== ':memory:' && !existsSync(path);
  const database = new Database(path);
  if (isNew) chmodSync(path, 0o600);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.exec('CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    database
      .prepare('SELECT name FROM migrations')
      .all()
      .map((row) => (row as { name: string }).name),
  );
  const record = database.prepare('INSERT INTO migrations (name, applied_at) VALUES (?, ?)');
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    database.transaction(() => {
      database.exec(migration.sql);
      record.run(migration.name, Date.now());
    })();
  }
  return database;
}
