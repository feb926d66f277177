import type { Migration, SqliteDatabase } from './database.js';

/**
 * Gateway tokens issued by `warren token create`. Only the sha256 of the secret is stored: the
 * secret is shown once at creation and cannot be recovered from the database.
 */
export const tokensMigrations: Migration[] = [
  {
    name: 'gateway-tokens-001',
    sql: `CREATE TABLE gateway_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      secret_hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      models TEXT,
      created_at INTEGER NOT NULL,
      expires_at INTEGER,
      revoked_at INTEGER,
      last_used_at INTEGER
    );
    CREATE INDEX gateway_tokens_name ON gateway_tokens (name);`,
  },
];

export interface TokenRow {
  id: string;
  name: string;
  /** Hex sha256 of the secret. */
  secretHash: string;
  /** The first characters of the secret, safe to show so a user can tell tokens apart. */
  prefix: string;
  /** Model names this token may call; null means every model. */
  models: string[] | null;
  createdAt: number;
  /** Epoch milliseconds; null means it never expires. */
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export type NewTokenRow = Omit<TokenRow, 'revokedAt' | 'lastUsedAt'>;

export interface TokenRepository {
  insert(token: NewTokenRow): void;
  findByHash(secretHash: string): TokenRow | undefined;
  /** Every token, newest first, revoked and expired ones included. */
  list(): TokenRow[];
  /** Revokes every live token whose id or name is `idOrName`; returns how many were revoked. */
  revoke(idOrName: string, at: number): number;
  /** Records use; cheap enough for every request, but callers may throttle it. */
  touch(id: string, at: number): void;
}

interface TokenDatabaseRow {
  id: string;
  name: string;
  secret_hash: string;
  prefix: string;
  models: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

function fromRow(row: TokenDatabaseRow): TokenRow {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    prefix: row.prefix,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export function createTokenRepository(database: SqliteDatabase): TokenRepository {
  const insert = database.prepare(
    `INSERT INTO gateway_tokens (id, name, secret_hash, prefix, models, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const byHash = database.prepare('SELECT * FROM gateway_tokens WHERE secret_hash = ?');
  const all = database.prepare('SELECT * FROM gateway_tokens ORDER BY created_at DESC, id');
  const revoke = database.prepare(
    'UPDATE gateway_tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL',
  );
  const touch = database.prepare('UPDATE gateway_tokens SET last_used_at = ? WHERE id = ?');
  return {
    insert(token) {
      insert.run(
        token.id,
        token.name,
        token.secretHash,
        token.prefix,
        token.models === null ? null : JSON.stringify(token.models),
        token.createdAt,
        token.expiresAt,
      );
    },
    findByHash(secretHash) {
      const row = byHash.get(secretHash) as TokenDatabaseRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    list() {
      return (all.all() as TokenDatabaseRow[]).map(fromRow);
    },
    revoke(idOrName, at) {
      return revoke.run(at, idOrName, idOrName).changes;
    },
    touch(id, at) {
      touch.run(at, id);
    },
  };
}
