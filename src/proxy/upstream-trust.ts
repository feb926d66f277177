import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

function readBundle(path: string | undefined): string[] {
  if (!path || !existsSync(path)) return [];
  try {
    return [readFileSync(path, 'utf8')];
  } catch {
    return [];
  }
}

/**
 * What upstream certificates are verified against: Node's roots, the system bundle, NODE_EXTRA_CA_CERTS
 * and `extraTrust` (PEM texts). Built once per proxy: a secure context with ~150 roots is not cheap.
 */
export function createUpstreamTrust(extraTrust: readonly string[], env: NodeJS.ProcessEnv): SecureContext {
  const systemBundle =
    SYSTEM_BUNDLES.map((path) => readBundle(path)).find((bundle) => bundle.length > 0) ?? [];
  const ca = [...rootCertificates, ...systemBundle, ...readBundle(env.NODE_EXTRA_CA_CERTS), ...extraTrust];
  return createSecureContext({ ca });
}
