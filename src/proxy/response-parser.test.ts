import { describe, expect, it } from 'vitest';
import { createResponseParser, type ResponseHead } from './response-parser.js';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  completions: boolean[];
}

function parse(wire: string, options: { head?: boolean; split?: number; close?: boolean } = {}): Parsed {
  const parsed: Parsed = { heads: [], body: '', completions: [] };
  const parser = createResponseParser(options.head ?? false, {
    onHead: (head) => parsed.heads.push(head),
    onBody: (chunk) => (parsed.body += chunk.toString('latin1')),
    onComplete: (keepAlive) => parsed.completions.push(keepAlive),
  });
  const bytes = Buffer.from(wire, 'latin1');
  const step = options.split ?? bytes.length;
  for (let index = 0; index < bytes.length; index += step) parser.push(bytes.subarray(index, index + step));
  if (options.close) parser.endOfStream();
  return parsed;
}

describe('response parser', () => {
  it('reads a Content-Length body, whatever the packet boundaries', () => {
    const wire = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
    for (const split of [1, 2, 7, 1000]) {
      const parsed = parse(wire, { split });
      expect(parsed.heads).toEqual([
        {
          status: 200,
          statusText: 'OK',
          httpVersion: '1.1',
          rawHeaders: ['Content-Type', 'text/plain', 'Content-Length', '5'],
          contentLength: 5,
        },
      ]);
      expect(parsed.body).toBe('hello');
      expect(parsed.completions).toEqual([true]);
    }
  });

  it('decodes chunked bodies with extensions and trailers, byte by byte', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n';
    for (const split of [1, 3, 1000]) {
      const parsed = parse(wire, { split });
      expect(parsed.body).toBe('hello world');
      expect(parsed.completions).toEqual([true]);
    }
  });

  it('reads to the end of the connection when there is no framing, and never reuses it', () => {
    const parsed = parse('HTTP/1.1 200 OK\r\n\r\nstream until close', { close: true });
    expect(parsed.body).toBe('stream until close');
    expect(parsed.completions).toEqual([false]);
  });

  it('knows responses without a body: HEAD, 204, 304', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { head: true })).toMatchObject({
      body: '',
      completions: [true],
    });
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n').completions).toEqual([true]);
    expect(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').completions).toEqual([true]);
  });

  it('skips interim 1xx responses', () => {
    const parsed = parse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(parsed.heads.map((head) => head.status)).toEqual([201]);
    expect(parsed.body).toBe('ok');
  });

  it('follows Connection semantics of HTTP/1.0 and 1.1', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').completions).toEqual([
      false,
    ]);
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').completions).toEqual([false]);
    expect(
      parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').completions,
    ).toEqual([true]);
    // Bytes after a complete response make the connection unusable.
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy').completions).toEqual([false]);
  });

  it('holds back the head of a chunked response until its first chunk size is known good', () => {
    const heads: ResponseHead[] = [];
    const parser = createResponseParser(false, {
      onHead: (head) => heads.push(head),
      onBody: () => undefined,
      onComplete: () => undefined,
    });
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
    expect(heads).toEqual([]);
    expect(() => parser.push(Buffer.from('zz\r\n'))).toThrow(/invalid chunk size/);
    expect(heads).toEqual([]);
  });

  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', /conflicting Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n', /malformed header name/],
    ['HTTP/2 200\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX', /chunk not followed by CRLF/],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /unexpected 101/],
    [
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      /both Content-Length and Transfer-Encoding/,
    ],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /not one Warren forwards/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', /chunked, once/],
    ['HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok', /invalid character/],
    ['HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 2\r\n\r\nok', /invalid character/],
    ['HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\n\r\n', /invalid character/],
    ['HTTP/1.1 200 O\u0007K\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n', /invalid chunk size|bare CR or LF/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\nok\r\n', /bare CR or LF/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 2\r\nok\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n', /invalid chunk size/],
  ])('refuses %j', (wire, message) => {
    expect(() => parse(wire)).toThrow(message);
  });

  it('refuses response headers over the limit', () => {
    const parser = createResponseParser(
      false,
      { onHead: () => undefined, onBody: () => undefined, onComplete: () => undefined },
      1024,
    );
    expect(() => parser.push(Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}`))).toThrow(/exceed/);
  });
});
