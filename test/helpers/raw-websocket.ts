import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One frame as the server sent it (servers never mask), with when it arrived. */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
  at: number;
}

/**
 * A WebSocket client written byte by byte, for attacks a well-behaved client (`ws`) would not make:
 * it ignores close frames and keeps sending, and it sends whatever Host and headers it is given.
 */
export interface RawWebSocket {
  /** The status line and headers of the handshake answer. */
  head: string;
  status: number;
  /** Body of a refused handshake (what came after the headers). */
  body: string;
  frames: RawFrame[];
  /** When the server closed the TCP connection (ms since epoch). */
  tcpClosed: Promise<number>;
  /** Sends a masked text frame, whatever state the connection is in; false if the socket is gone. */
  sendText(text: string): boolean;
  destroy(): void;
}

function parseFrames(buffer: Buffer, frames: RawFrame[]): Buffer {
  let rest = buffer;
  for (;;) {
    if (rest.length < 2) return rest;
    const opcode = (rest[0] as number) & 0x0f;
    let length = (rest[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (rest.length < 4) return rest;
      length = rest.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (rest.length < 10) return rest;
      length = Number(rest.readBigUInt64BE(2));
      offset = 10;
    }
    if (rest.length < offset + length) return rest;
    frames.push({ opcode, payload: rest.subarray(offset, offset + length), at: Date.now() });
    rest = rest.subarray(offset + length);
  }
}

/** Opens `path` on 127.0.0.1:`port` with exactly these request headers (Host included, if given). */
export function openRawWebSocket(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const frames: RawFrame[] = [];
    let received: Buffer = Buffer.alloc(0);
    let head: string | undefined;
    const tcpClosed = new Promise<number>((closed) => socket.once('close', () => closed(Date.now())));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        ...Object.entries({
          Upgrade: 'websocket',
          Connection: 'Upgrade',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
          'Sec-WebSocket-Version': '13',
          ...headers,
        }).map(([name, value]) => `${name}: ${value}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    const client = (status: number, body: string): RawWebSocket => ({
      head: head ?? '',
      status,
      body,
      frames,
      tcpClosed,
      sendText(text) {
        if (socket.destroyed || !socket.writable) return false;
        const payload = Buffer.from(text);
        if (payload.length > 125) throw new Error('sendText sends short frames only');
        const mask = randomBytes(4);
        const masked = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] as number)));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
        return true;
      },
      destroy: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (head === undefined) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = received.subarray(0, end).toString('latin1');
        received = received.subarray(end + 4);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
        if (status !== 101) {
          // A refusal: the body follows and the server closes.
          void tcpClosed.then(() => resolve(client(status, received.toString('utf8'))));
          return;
        }
        resolve(client(status, ''));
      }
      if (head.startsWith('HTTP/1.1 101')) received = parseFrames(received, frames);
    });
    socket.once('close', () => {
      if (head === undefined) reject(new Error('the server closed the connection before answering'));
    });
  });
}

/** A close frame's code and reason. */
export function closeOf(frame: RawFrame): { code: number; reason: string } {
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}
