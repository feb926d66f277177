import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * The session's proxy socket, owned by its shim for the session's whole life (the sandbox has that very
 * socket file bound in, so it can never be re-created). Each connection the sandbox opens is relayed,
 * byte for byte, to the server's proxy listener for the session. While no server listens (it restarts),
 * the connection is held unread, for at most `holdMs`, and relayed once the server is back: the agent
 * sees a slow request, not a refused one, and the server records it when it arrives.
 */
export interface ProxyRelay {
  close(): Promise<void>;
}

export async function startProxyRelay(options: {
  socketPath: string;
  serverPath: string;
  holdMs?: number;
  retryMs?: number;
}): Promise<ProxyRelay> {
  const holdMs = options.holdMs ?? 120_000;
  const retryMs = options.retryMs ?? 100;
  const open = new Set<Socket>();

  const relay = (client: Socket) => {
    open.add(client);
    client.pause();
    const givenUpAt = Date.now() + holdMs;
    let closed = false;
    client.once('close', () => {
      closed = true;
      open.delete(client);
    });
    client.on('error', () => client.destroy());
    const attempt = () => {
      if (closed) return;
      const upstream = connect(options.serverPath);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        open.add(upstream);
        upstream.once('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        upstream.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        if (connected) return; // handled above: the pair closes
        // No server listens yet: hold the client (unread) and try again, up to the bound.
        if ((error.code === 'ECONNREFUSED' || error.code === 'ENOENT') && Date.now() < givenUpAt) {
          setTimeout(attempt, retryMs).unref();
          return;
        }
        client.destroy();
      });
    };
    attempt();
  };

  rmSync(options.socketPath, { force: true });
  const server: Server = createServer(relay);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
