import type * as X509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { WarrenError } from '../errors/index.js';
import { parseIp, formatIp } from './addresses.js';

/**
 * Warren's local certificate authority: an EC P-256 root kept in the Warren home, and leaf certificates
 * signed on demand for the hosts whose TLS the proxy intercepts.
 */

export interface LeafCertificate {
  hostname: string;
  certificatePem: string;
  privateKeyPem: string;
  /** Ready for a TLS server socket; built once per leaf because building it costs about a millisecond. */
  secureContext: SecureContext;
  notAfter: Date;
}

export interface CertificateAuthority {
  certificatePath: string;
  certificatePem: string;
  /** A leaf for a host name or IP literal; cached (LRU) and renewed before it expires. */
  leafFor(hostname: string): Promise<LeafCertificate>;
}

export interface CertificateAuthorityOptions {
  dir: string;
  /** How many leaves to keep; default 1000. */
  cacheSize?: number;
  /** Injected for tests of expiry; default Date.now. */
  now?: () => number;
}

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;
const CA_VALIDITY_MS = 10 * 365 * 24 * HOUR_MS;
/** Short-lived leaves; renewed when less than a day is left. */
const LEAF_VALIDITY_MS = 3 * 24 * HOUR_MS;
const LEAF_RENEW_MARGIN_MS = 24 * HOUR_MS;
/** Tolerates clocks behind ours. */
const BACKDATE_MS = HOUR_MS;

function toPem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // positive
  return bytes.toString('hex');
}

/**
 * The certificate library costs ~60 ms to load, so it is loaded only to create a CA or sign a leaf:
 * a session that never intercepts TLS (and `warren run -- true`) does without it.
 */
async function loadX509(): Promise<typeof X509> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function createRoot(certificatePath: string, keyPath: string): Promise<void> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Warren local CA (${new Date(now).toISOString().slice(0, 10)}), O=Warren`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  await writeFile(keyPath, keyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(certificatePath, certificate.toString('pem') + '\n', { mode: 0o644, flag: 'wx' });
}

/** Reads and checks the root with Node's own X.509 parser: the pair must parse and belong together. */
async function loadRoot(certificatePath: string, keyPath: string) {
  try {
    const certificatePem = await readFile(certificatePath, 'utf8');
    const keyPem = await readFile(keyPath, 'utf8');
    const privateKey = createPrivateKey(keyPem);
    if (!new X509Certificate(certificatePem).checkPrivateKey(privateKey)) {
      throw new Error('ca-key.pem is not the key of ca.pem');
    }
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    return { certificatePem, pkcs8 };
  } catch (error) {
    throw new WarrenError(
      'invalid-config',
      `Cannot load Warren's CA from ${certificatePath}: ${String(error)}`,
      {
        hint: `Remove ${certificatePath} and ${keyPath} to create a new CA (clients will need to trust the new one).`,
        cause: error,
      },
    );
  }
}

/** What signing leaves needs, prepared on the first leaf. One key serves all leaves. */
async function createLeafSigner(root: { certificatePem: string; pkcs8: Buffer }) {
  const x509 = await loadX509();
  const certificate = new x509.X509Certificate(root.certificatePem);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', root.pkcs8, EC_ALGORITHM, false, ['sign']);
  const authorityKeyIdentifier = await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey);
  // One key for all leaves: signing a leaf is then a single ECDSA signature, not a key generation.
  const leafKeys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const leafKeyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
  const leafSubjectKeyIdentifier = await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey);
  return {
    x509,
    issuer: certificate.subject,
    signingKey,
    authorityKeyIdentifier,
    leafKeys,
    leafKeyPem,
    leafSubjectKeyIdentifier,
  };
}

/** Loads `ca.pem` + `ca-key.pem` from `dir`, creating them (key 0600, folder 0700) when absent. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 1000;
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  await chmod(options.dir, 0o700);
  const certificatePath = join(options.dir, 'ca.pem');
  const keyPath = join(options.dir, 'ca-key.pem');
  const hasCertificate = await fileExists(certificatePath);
  if (hasCertificate !== (await fileExists(keyPath))) {
    throw new WarrenError(
      'invalid-config',
      `Warren's CA in ${options.dir} is incomplete (one of ca.pem, ca-key.pem).`,
      {
        hint: `Remove the remaining file in ${options.dir} so that a new CA is created.`,
      },
    );
  }
  if (!hasCertificate) await createRoot(certificatePath, keyPath);
  await chmod(keyPath, 0o600);
  const root = await loadRoot(certificatePath, keyPath);
  let signer: ReturnType<typeof createLeafSigner> | undefined;
  const cache = new Map<string, Promise<LeafCertificate>>();

  async function signLeaf(hostname: string): Promise<LeafCertificate> {
    if (!signer) {
      signer = createLeafSigner(root);
      signer.catch(() => (signer = undefined)); // a failed preparation is tried again on the next leaf
    }
    const { x509, ...signing } = await signer;
    const address = parseIp(hostname);
    const altName = address
      ? { type: 'ip' as const, value: formatIp(address) }
      : { type: 'dns' as const, value: hostname };
    const issued = now();
    const notAfter = new Date(issued + LEAF_VALIDITY_MS);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${hostname.replace(/[,+="\\<>;#]/g, '')}`,
      issuer: signing.issuer,
      notBefore: new Date(issued - BACKDATE_MS),
      notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: signing.leafKeys.publicKey,
      signingKey: signing.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([altName]),
        signing.authorityKeyIdentifier,
        signing.leafSubjectKeyIdentifier,
      ],
    });
    const certificatePem = certificate.toString('pem') + '\n';
    // The chain includes the root so that clients which only trust it by fingerprint can still build it.
    const secureContext = createSecureContext({
      cert: certificatePem + root.certificatePem,
      key: signing.leafKeyPem,
    });
    return { hostname, certificatePem, privateKeyPem: signing.leafKeyPem, secureContext, notAfter };
  }

  async function leafFor(host: string): Promise<LeafCertificate> {
    const hostname = host.toLowerCase();
    const cached = cache.get(hostname);
    if (cached) {
      const leaf = await cached.catch(() => undefined);
      if (leaf && leaf.notAfter.getTime() - now() > LEAF_RENEW_MARGIN_MS) {
        // Re-inserting moves the entry to the end: Map iteration order is the LRU order.
        cache.delete(hostname);
        cache.set(hostname, cached);
        return leaf;
      }
      cache.delete(hostname);
    }
    const pending = signLeaf(hostname);
    cache.set(hostname, pending);
    pending.catch(() => cache.delete(hostname));
    while (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return pending;
  }

  return { certificatePath, certificatePem: root.certificatePem, leafFor };
}
