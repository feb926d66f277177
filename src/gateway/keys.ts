import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who is calling. The gateway accepts three kinds of key: the config's master key, tokens created
 * with `warren token create` (stored hashed), and per-session tokens that `warren run` / `serve`
 * issue in memory and revoke when the session ends.
 */
export interface Caller {
  kind: 'master' | 'token' | 'session';
  /** The stored token's id, for usage records. */
  tokenId: string | null;
  /** The session a session token belongs to. */
  sessionId: string | null;
  /** Model names this caller may use; null means every model. */
  models: string[] | null;
}

export interface TokenVerifier {
  /** The caller a presented secret stands for, or undefined when it is not valid (now). */
  verify(secret: string): Caller | undefined;
}

/** What the stored-token verifier needs from the store; `createTokenRepository` satisfies it. */
export interface StoredTokenLookup {
  findByHash(secretHash: string):
    | {
        id: string;
        secretHash: string;
        models: string[] | null;
        expiresAt: number | null;
        revokedAt: number | null;
      }
    | undefined;
  touch?(id: string, at: number): void;
}

/** What issuing a stored token needs from the store. */
export interface StoredTokenWriter {
  insert(token: {
    id: string;
    name: string;
    secretHash: string;
    prefix: string;
    models: string[] | null;
    createdAt: number;
    expiresAt: number | null;
  }): void;
}

/** Every secret Warren issues starts with this, so leaked ones are easy to recognise and scan for. */
const secretPrefix = 'wrn_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** 256 random bits: long enough that an unsalted sha256 is a safe way to store it. */
export function generateSecret(kind: 'token' | 'session'): string {
  return `${secretPrefix}${kind === 'session' ? 's_' : ''}${randomBytes(32).toString('base64url')}`;
}

/**
 * The keys a client presented: `Authorization: Bearer …` (OpenAI SDKs, Claude Code's
 * ANTHROPIC_AUTH_TOKEN) and `x-api-key` (Anthropic SDKs), in that order. Some clients send both.
 */
export function presentedKeys(headers: IncomingHttpHeaders): string[] {
  const keys: string[] = [];
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) keys.push(match[1]!.trim());
  }
  const apiKey = headers['x-api-key'];
  const value = (Array.isArray(apiKey) ? apiKey[0] : apiKey)?.trim();
  if (value && !keys.includes(value)) keys.push(value);
  return keys;
}

export function createMasterKeyVerifier(masterKey: string): TokenVerifier {
  const expected = hashSecret(masterKey);
  return {
    verify(secret) {
      // Comparing digests keeps the comparison constant-time whatever the lengths.
      if (!sameDigest(hashSecret(secret), expected)) return undefined;
      return { kind: 'master', tokenId: null, sessionId: null, models: null };
    },
  };
}

/**
 * Checks secrets against stored hashes. Lookup is by hash, so the secret itself is never compared;
 * expiry and revocation are read on every call, so `warren token revoke` takes effect at once.
 */
export function createStoredTokenVerifier(
  lookup: StoredTokenLookup,
  options: { now?: () => number; touchIntervalMs?: number } = {},
): TokenVerifier {
  const now = options.now ?? Date.now;
  const touchIntervalMs = options.touchIntervalMs ?? 60_000;
  const lastTouched = new Map<string, number>();
  return {
    verify(secret) {
      if (!secret.startsWith(secretPrefix)) return undefined;
      const digest = hashSecret(secret);
      const row = lookup.findByHash(digest);
      if (!row || !sameDigest(row.secretHash, digest)) return undefined;
      const at = now();
      if (row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= at)) return undefined;
      if (lookup.touch && at - (lastTouched.get(row.id) ?? -Infinity) >= touchIntervalMs) {
        lastTouched.set(row.id, at);
        lookup.touch(row.id, at);
      }
      return { kind: 'token', tokenId: row.id, sessionId: null, models: row.models };
    },
  };
}

export interface IssuedToken {
  id: string;
  /** Shown once; only its hash is stored. */
  secret: string;
  prefix: string;
}

export function issueStoredToken(
  store: StoredTokenWriter,
  request: { name: string; models: string[] | null; expiresAt: number | null; now?: number },
): IssuedToken {
  const secret = generateSecret('token');
  const id = `tok_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const prefix = secret.slice(0, secretPrefix.length + 6);
  store.insert({
    id,
    name: request.name,
    secretHash: hashSecret(secret),
    prefix,
    models: request.models,
    createdAt: request.now ?? Date.now(),
    expiresAt: request.expiresAt,
  });
  return { id, secret, prefix };
}

/** Per-session tokens held in memory by whoever runs sessions; the caller owns the set. */
export interface SessionTokens extends TokenVerifier {
  /** A fresh token for the session (replacing any earlier one). */
  issue(sessionId: string): string;
  /** Revokes the session's token; returns whether there was one. */
  revoke(sessionId: string): boolean;
}

export function createSessionTokens(): SessionTokens {
  const sessionByDigest = new Map<string, string>();
  const digestBySession = new Map<string, string>();
  return {
    issue(sessionId) {
      const previous = digestBySession.get(sessionId);
      if (previous) sessionByDigest.delete(previous);
      const secret = generateSecret('session');
      const digest = hashSecret(secret);
      sessionByDigest.set(digest, sessionId);
      digestBySession.set(sessionId, digest);
      return secret;
    },
    revoke(sessionId) {
      const digest = digestBySession.get(sessionId);
      if (!digest) return false;
      digestBySession.delete(sessionId);
      sessionByDigest.delete(digest);
      return true;
    },
    verify(secret) {
      if (!secret.startsWith(`${secretPrefix}s_`)) return undefined;
      const sessionId = sessionByDigest.get(hashSecret(secret));
      return sessionId === undefined
        ? undefined
        : { kind: 'session', tokenId: null, sessionId, models: null };
    },
  };
}

/** Tries each verifier in turn; the first that knows the secret decides. */
export function combineVerifiers(verifiers: TokenVerifier[]): TokenVerifier {
  return {
    verify(secret) {
      for (const verifier of verifiers) {
        const caller = verifier.verify(secret);
        if (caller) return caller;
      }
      return undefined;
    },
  };
}
