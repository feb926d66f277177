// A minimal keep-alive HTTP/1.1 server on loopback answering every request with 1 KiB: cheap enough
// that the proxy, not the upstream, is what the proxy benchmark measures. Prints its port on stdout.
import { createServer } from 'node:net';

const body = Buffer.alloc(1024, 'x');
const response = Buffer.concat([
  Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`,
  ),
  body,
]);
const HEAD_END = Buffer.from('\r\n\r\n');

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let count = 0;
    let index;
    // Requests in this benchmark are GETs without bodies: one blank line per request.
    while ((index = pending.indexOf(HEAD_END)) >= 0) {
      count++;
      pending = pending.subarray(index + 4);
    }
    if (count === 1) socket.write(response);
    else if (count > 1) socket.write(Buffer.concat(new Array(count).fill(response)));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
