import { describe, expect, it } from 'vitest';
import { openStore } from '../store/index.js';
import {
  createMasterKeyVerifier,
  createSessionTokens,
  createStoredTokenVerifier,
  hashSecret,
  issueStoredToken,
  presentedKeys,
} from './keys.js';

describe('gateway keys', () => {
  it('reads the key from Authorization: Bearer or x-api-key', () => {
    expect(presentedKeys({ authorization: 'Bearer abc' })).toEqual(['abc']);
    expect(presentedKeys({ authorization: 'bearer  abc ' })).toEqual(['abc']);
    expect(presentedKeys({ 'x-api-key': 'xyz' })).toEqual(['xyz']);
    expect(presentedKeys({ authorization: 'Bearer abc', 'x-api-key': 'xyz' })).toEqual(['abc', 'xyz']);
    expect(presentedKeys({ authorization: 'Bearer abc', 'x-api-key': 'abc' })).toEqual(['abc']);
    expect(presentedKeys({ authorization: 'Basic Zm9v' })).toEqual([]);
    expect(presentedKeys({})).toEqual([]);
  });

  it('accepts the master key and nothing close to it', () => {
    const verifier = createMasterKeyVerifier('sk-master-123');
    expect(verifier.verify('sk-master-123')).toMatchObject({ kind: 'master', models: null });
    expect(verifier.verify('sk-master-12')).toBeUndefined();
    expect(verifier.verify('sk-master-1234')).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });

  it('stores only a hash of issued tokens and honours models, expiry and revocation', () => {
    const { tokens } = openStore(':memory:');
    let time = 1_000_000;
    const verifier = createStoredTokenVerifier(tokens, { now: () => time });
    const issued = issueStoredToken(tokens, {
      name: 'ci',
      models: ['gpt-4o'],
      expiresAt: time + 60_000,
      now: time,
    });
    expect(issued.secret).toMatch(/^wrn_[A-Za-z0-9_-]{43}$/);
    const [row] = tokens.list();
    expect(row).toMatchObject({
      name: 'ci',
      secretHash: hashSecret(issued.secret),
      prefix: issued.secret.slice(0, 10),
    });
    expect(JSON.stringify(row)).not.toContain(issued.secret);
    expect(verifier.verify(issued.secret)).toEqual({
      kind: 'token',
      tokenId: issued.id,
      sessionId: null,
      models: ['gpt-4o'],
    });
    expect(tokens.list()[0]!.lastUsedAt).toBe(time);
    expect(verifier.verify(issued.secret.slice(0, -1))).toBeUndefined();
    time += 60_000;
    expect(verifier.verify(issued.secret)).toBeUndefined();

    const other = issueStoredToken(tokens, { name: 'laptop', models: null, expiresAt: null });
    expect(verifier.verify(other.secret)).toMatchObject({ kind: 'token', models: null });
    expect(tokens.revoke('laptop', time)).toBe(1);
    expect(verifier.verify(other.secret)).toBeUndefined();
    expect(tokens.revoke('laptop', time)).toBe(0);
  });

  it('issues session tokens that stop working when revoked or replaced', () => {
    const sessions = createSessionTokens();
    const first = sessions.issue('s1');
    const second = sessions.issue('s2');
    expect(first).not.toBe(second);
    expect(sessions.verify(first)).toEqual({ kind: 'session', tokenId: null, sessionId: 's1', models: null });
    expect(sessions.revoke('s1')).toBe(true);
    expect(sessions.verify(first)).toBeUndefined();
    expect(sessions.verify(second)).toMatchObject({ sessionId: 's2' });
    const replaced = sessions.issue('s2');
    expect(sessions.verify(second)).toBeUndefined();
    expect(sessions.verify(replaced)).toMatchObject({ sessionId: 's2' });
    expect(sessions.revoke('unknown')).toBe(false);
  });
});
