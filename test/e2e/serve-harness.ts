import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server/serve.js';

/** `warren serve` as `npm start` runs it (real store, CA, proxy and sandbox driver) in a fresh WARREN_HOME. */
export async function startRealServer(): Promise<RunningServer & { home: string; dispose(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'warren-serve-'));
  const server = await startServer({
    env: { ...process.env, WARREN_HOME: home },
    host: '127.0.0.1',
    port: 0,
  });
  return {
    ...server,
    home,
    async dispose() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A loopback HTTP server standing in for a host on the internet; answers every request with `body`. */
export async function startFakeUpstream(
  body: string,
): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
