import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from './ca.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function freshDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'warren-ca-'));
  return join(dir, 'ca');
}

describe('certificate authority', () => {
  it('creates an EC P-256 root with a private key file (0600) in a private folder (0700), and reloads it', async () => {
    const caDir = await freshDir();
    const ca = await createCertificateAuthority({ dir: caDir });
    expect((await stat(caDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(caDir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    const root = new X509Certificate(ca.certificatePem);
    expect(root.ca).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(root.subject).toContain('Warren local CA');
    const again = await createCertificateAuthority({ dir: caDir });
    expect(again.certificatePem).toBe(ca.certificatePem);
    expect(again.certificatePath).toBe(join(caDir, 'ca.pem'));
  });

  it('refuses a key that does not belong to the certificate, saying how to recover', async () => {
    const first = await freshDir();
    const second = join(first, '..', 'other-ca');
    await createCertificateAuthority({ dir: first });
    await createCertificateAuthority({ dir: second });
    await copyFile(join(second, 'ca-key.pem'), join(first, 'ca-key.pem'));
    await expect(createCertificateAuthority({ dir: first })).rejects.toThrow(/not the key of ca\.pem/);
  });

  it('signs short-lived leaves with SAN, AKI, SKI, CA:false and serverAuth, for names and IPs', async () => {
    const ca = await createCertificateAuthority({ dir: await freshDir() });
    const root = new X509Certificate(ca.certificatePem);
    const leaf = new X509Certificate((await ca.leafFor('API.Example.test')).certificatePem);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe('DNS:api.example.test');
    expect(leaf.checkHost('api.example.test')).toBe('api.example.test');
    const text = leaf.toLegacyObject();
    expect(text.ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    expect(lifetime).toBeLessThanOrEqual(5 * 24 * 3_600_000);
    const raw = leaf.raw.toString('hex');
    expect(raw).toContain('0603551d23'); // authorityKeyIdentifier
    expect(raw).toContain('0603551d0e'); // subjectKeyIdentifier
    const ipLeaf = new X509Certificate((await ca.leafFor('127.0.0.1')).certificatePem);
    expect(ipLeaf.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(ipLeaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('caches leaves in a bounded LRU and renews those about to expire', async () => {
    let now = Date.now();
    const ca = await createCertificateAuthority({ dir: await freshDir(), cacheSize: 2, now: () => now });
    const first = await ca.leafFor('a.test');
    expect(await ca.leafFor('a.test')).toBe(first);
    await ca.leafFor('b.test');
    await ca.leafFor('a.test'); // a is now the most recent
    await ca.leafFor('c.test'); // evicts b
    expect(await ca.leafFor('a.test')).toBe(first);
    const b = await ca.leafFor('b.test');
    expect(await ca.leafFor('b.test')).toBe(b);
    now += 2.5 * 24 * 3_600_000;
    expect(await ca.leafFor('b.test')).not.toBe(b);
  });

  it('refuses a half-present CA with a clear hint', async () => {
    const caDir = await freshDir();
    await createCertificateAuthority({ dir: caDir });
    await unlink(join(caDir, 'ca-key.pem'));
    await expect(createCertificateAuthority({ dir: caDir })).rejects.toThrow(/incomplete/);
  });
});
