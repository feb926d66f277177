import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tiny npm registry stand-in on loopback: generated packages, their packuments and tarballs, an optional
 * delay per response (a remote registry's round trip), and counts of what was asked for.
 */
export interface FakeNpmRegistry {
  port: number;
  /** The registry URL under `hostname` (which the proxy's lookup must map to 127.0.0.1). */
  url: string;
  packageNames: string[];
  requests: { packuments: number; tarballs: number };
  close(): Promise<void>;
}

export interface FakeNpmRegistryOptions {
  packageCount: number;
  hostname: string;
  /** Bytes of incompressible filler per package, so tarballs have a realistic size. Default 64 KiB. */
  fillerBytes?: number;
  /** Delay before each answer (a remote registry's round trip). */
  delayMs?: number;
  /** Delay before tarball answers instead of delayMs (large downloads from a slower file host). */
  tarballDelayMs?: number;
}

interface Generated {
  name: string;
  tarball: Buffer;
  integrity: string;
  shasum: string;
}

function generatePackage(name: string, fillerBytes: number, work: string): Generated {
  const folder = join(work, name, 'package');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(folder, 'index.js'), `module.exports = ${JSON.stringify(name)};\n`);
  writeFileSync(join(folder, 'filler.bin'), randomBytes(fillerBytes));
  const archive = join(work, `${name}.tgz`);
  execFileSync('tar', ['-czf', archive, '-C', join(work, name), 'package']);
  const tarball = readFileSync(archive);
  return {
    name,
    tarball,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
  };
}

export async function startFakeNpmRegistry(options: FakeNpmRegistryOptions): Promise<FakeNpmRegistry> {
  const work = mkdtempSync(join(tmpdir(), 'warren-fake-npm-'));
  const packages = new Map<string, Generated>();
  for (let index = 0; index < options.packageCount; index += 1) {
    const generated = generatePackage(`warren-fixture-${index}`, options.fillerBytes ?? 64 * 1024, work);
    packages.set(generated.name, generated);
  }
  rmSync(work, { recursive: true, force: true });
  const requests = { packuments: 0, tarballs: 0 };
  let base = '';
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://registry').pathname);
    const reply = () => {
      const tarballMatch = /^\/([^/]+)\/-\/([^/]+)-1\.0\.0\.tgz$/.exec(path);
      if (tarballMatch) {
        const generated = packages.get(tarballMatch[1] ?? '');
        if (!generated) return response.writeHead(404).end();
        requests.tarballs += 1;
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': generated.tarball.length,
        });
        return response.end(generated.tarball);
      }
      const generated = packages.get(path.slice(1));
      if (!generated)
        return response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      requests.packuments += 1;
      const packument = {
        name: generated.name,
        'dist-tags': { latest: '1.0.0' },
        versions: {
          '1.0.0': {
            name: generated.name,
            version: '1.0.0',
            main: 'index.js',
            dist: {
              tarball: `${base}/${generated.name}/-/${generated.name}-1.0.0.tgz`,
              integrity: generated.integrity,
              shasum: generated.shasum,
            },
          },
        },
      };
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify(packument));
    };
    request.resume();
    const isTarball = path.endsWith('.tgz');
    const delay = isTarball ? (options.tarballDelayMs ?? options.delayMs) : options.delayMs;
    if (delay) setTimeout(reply, delay);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  base = `http://${options.hostname}:${port}`;
  return {
    port,
    url: `${base}/`,
    packageNames: [...packages.keys()],
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
