import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../../src/proxy/index.js';

const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/**
 * Git smart HTTP over TLS on loopback: a Node CGI bridge to git-http-backend that refuses every request without
 * `Authorization: Basic` whose password is `token` (401 with a Basic challenge, as GitHub does).
 */
export interface FakeGitServer {
  port: number;
  /** Bare repository served as /repo.git. */
  repositoryPath: string;
  /** Authorization headers as they arrived, in order (to prove the real token came, never the placeholder). */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/** git-http-backend writes CGI headers, a blank line, then the body. */
function splitCgiHead(
  buffer: Buffer,
): { status: number; headers: [string, string][]; rest: Buffer } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1');
  const rest = buffer.subarray(end + (end === crlf ? 4 : 2));
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
    else headers.push([name, value]);
  }
  return { status, headers, rest };
}

function serveThroughBackend(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'https://git.local');
  const environment: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    REMOTE_USER: 'agent',
    REMOTE_ADDR: '127.0.0.1',
  };
  const optional: [string, string | string[] | undefined][] = [
    ['CONTENT_LENGTH', request.headers['content-length']],
    ['HTTP_CONTENT_ENCODING', request.headers['content-encoding']],
    ['GIT_PROTOCOL', request.headers['git-protocol']],
  ];
  for (const [name, value] of optional) if (typeof value === 'string') environment[name] = value;
  const child = spawn(HTTP_BACKEND, [], {
    env: environment,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(child.stdin);
  let pending: Buffer = Buffer.alloc(0);
  let headSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headSent) {
      response.write(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    const parsed = splitCgiHead(pending);
    if (!parsed) return;
    headSent = true;
    response.writeHead(parsed.status, parsed.headers.flat());
    if (parsed.rest.length > 0) response.write(parsed.rest);
  });
  child.on('close', () => {
    if (!headSent) response.writeHead(502).end('git-http-backend wrote no head');
    else response.end();
  });
}

export async function startFakeGitServer(ca: CertificateAuthority, token: string): Promise<FakeGitServer> {
  if (!existsSync(HTTP_BACKEND)) throw new Error(`${HTTP_BACKEND} is missing: apt-get install git`);
  const root = mkdtempSync(join(tmpdir(), 'warren-fake-git-'));
  const repositoryPath = join(root, 'repo.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repositoryPath]);
  execFileSync('git', ['-C', repositoryPath, 'config', 'http.receivepack', 'true']);
  const authorizations: (string | undefined)[] = [];
  const fallback = await ca.leafFor('127.0.0.1');
  const server = createHttpsServer(
    {
      cert: fallback.certificatePem,
      key: fallback.privateKeyPem,
      SNICallback: (servername, callback) => {
        ca.leafFor(servername).then(
          (leaf) => callback(null, leaf.secureContext),
          (error: Error) => callback(error),
        );
      },
    },
    (request, response) => {
      authorizations.push(request.headers.authorization);
      const credentials = /^Basic (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const password = credentials
        ? Buffer.from(credentials, 'base64').toString().split(':').slice(1).join(':')
        : '';
      if (password !== token) {
        request.resume();
        response.writeHead(401, {
          'WWW-Authenticate': 'Basic realm="fake git"',
          'Content-Type': 'text/plain',
        });
        response.end('authentication required\n');
        return;
      }
      serveThroughBackend(root, request, response);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    repositoryPath,
    authorizations,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
