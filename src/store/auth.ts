import { isRetryableWriteError } from './batch.js';
import type { Migration, SqliteDatabase } from './database.js';

/**
 * Warren has one operator: the person who runs `warren serve`. The users table still has rows (one,
 * named "admin") so that adding accounts later is a data change, not a schema change.
 */
export const authMigrations: Migration[] = [
  {
    name: 'auth-001',
    sql: `CREATE TABLE users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      password_changed_at INTEGER NOT NULL
    );
    CREATE TABLE login_sessions (
      id TEXT PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      csrf_token TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      revoked_at INTEGER,
      user_agent TEXT NOT NULL DEFAULT '',
      address TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX login_sessions_user ON login_sessions (user_id);`,
  },
];

export interface UserRow {
  id: number;
  name: string;
  /** Argon2id in PHC string form; the only thing stored about the password. */
  passwordHash: string;
  createdAt: number;
  passwordChangedAt: number;
}

export interface LoginSessionRow {
  /** sha256 (hex) of the cookie token: a stolen database does not yield usable cookies. */
  id: string;
  userId: number;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  revokedAt: number | null;
  userAgent: string;
  address: string;
}

export interface AuthRepository {
  findUser(name: string): UserRow | undefined;
  /** Creates the user or replaces its password hash. */
  setPassword(name: string, passwordHash: string, now: number): UserRow;
  createLogin(login: Omit<LoginSessionRow, 'revokedAt' | 'lastSeenAt'>): LoginSessionRow;
  /** The login session, if it exists, is not revoked and has not expired at `now`. */
  findActiveLogin(id: string, now: number): LoginSessionRow | undefined;
  /** The login session whatever its state (revoked and expired ones too), to say why it ended. */
  findLogin(id: string): LoginSessionRow | undefined;
  touchLogin(id: string, now: number): void;
  listActiveLogins(userId: number, now: number): LoginSessionRow[];
  revokeLogin(id: string, now: number): boolean;
  /** Revokes every login of the user except `keepId` (none kept when undefined); returns how many. */
  revokeOtherLogins(userId: number, keepId: string | undefined, now: number): number;
}

interface UserRecord {
  id: number;
  name: string;
  password_hash: string;
  created_at: number;
  password_changed_at: number;
}

interface LoginRecord {
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_agent: string;
  address: string;
}

function userFromRecord(record: UserRecord): UserRow {
  return {
    id: record.id,
    name: record.name,
    passwordHash: record.password_hash,
    createdAt: record.created_at,
    passwordChangedAt: record.password_changed_at,
  };
}

function loginFromRecord(record: LoginRecord): LoginSessionRow {
  return {
    id: record.id,
    userId: record.user_id,
    csrfToken: record.csrf_token,
    createdAt: record.created_at,
    lastSeenAt: record.last_seen_at,
    expiresAt: record.expires_at,
    revokedAt: record.revoked_at,
    userAgent: record.user_agent,
    address: record.address,
  };
}

export function createAuthRepository(database: SqliteDatabase): AuthRepository {
  const selectUser = database.prepare('SELECT * FROM users WHERE name = ?');
  const insertUser = database.prepare(
    'INSERT INTO users (name, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?)',
  );
  const updatePassword = database.prepare(
    'UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?',
  );
  const insertLogin = database.prepare(
    `INSERT INTO login_sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at, user_agent, address)
     VALUES (@id, @userId, @csrfToken, @createdAt, @createdAt, @expiresAt, @userAgent, @address)`,
  );
  const selectActiveLogin = database.prepare(
    'SELECT * FROM login_sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?',
  );
  const selectLogin = database.prepare('SELECT * FROM login_sessions WHERE id = ?');
  const selectActiveLogins = database.prepare(
    `SELECT * FROM login_sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
     ORDER BY last_seen_at DESC`,
  );
  const updateSeen = database.prepare('UPDATE login_sessions SET last_seen_at = ? WHERE id = ?');
  const revokeOne = database.prepare(
    'UPDATE login_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  const revokeOthers = database.prepare(
    'UPDATE login_sessions SET revoked_at = ? WHERE user_id = ? AND id IS NOT ? AND revoked_at IS NULL',
  );
  return {
    findUser(name) {
      const record = selectUser.get(name) as UserRecord | undefined;
      return record ? userFromRecord(record) : undefined;
    },
    setPassword(name, passwordHash, now) {
      database.transaction(() => {
        if (selectUser.get(name)) updatePassword.run(passwordHash, now, name);
        else insertUser.run(name, passwordHash, now, now);
      })();
      return userFromRecord(selectUser.get(name) as UserRecord);
    },
    createLogin(login) {
      insertLogin.run(login);
      return { ...login, lastSeenAt: login.createdAt, revokedAt: null };
    },
    findActiveLogin(id, now) {
      const record = selectActiveLogin.get(id, now) as LoginRecord | undefined;
      return record ? loginFromRecord(record) : undefined;
    },
    findLogin(id) {
      const record = selectLogin.get(id) as LoginRecord | undefined;
      return record ? loginFromRecord(record) : undefined;
    },
    touchLogin(id, now) {
      try {
        updateSeen.run(now, id);
      } catch (error) {
        // "Last seen" is informational: a full disk must not turn every request of a login into an error.
        if (!isRetryableWriteError(error)) throw error;
      }
    },
    listActiveLogins(userId, now) {
      return (selectActiveLogins.all(userId, now) as LoginRecord[]).map(loginFromRecord);
    },
    revokeLogin(id, now) {
      return revokeOne.run(now, id).changes > 0;
    },
    revokeOtherLogins(userId, keepId, now) {
      return revokeOthers.run(now, userId, keepId ?? null).changes;
    },
  };
}
