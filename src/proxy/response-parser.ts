/**
 * An incremental HTTP/1.1 response parser for the forwarding client: status line and headers, then
 * the body framed by Content-Length, chunked encoding, or the end of the connection. Strict where
 * request smuggling hides (conflicting lengths, folded headers, bad chunk sizes): it throws.
 */

export interface ResponseHead {
  status: number;
  statusText: string;
  httpVersion: string;
  /** Node's rawHeaders shape: name, value, name, value… */
  rawHeaders: string[];
}

export interface ResponseParserEvents {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** `keepAlive`: the connection may carry another request. */
  onComplete(keepAlive: boolean): void;
}

export interface ResponseParser {
  push(chunk: Buffer): void;
  /** The connection ended: completes a close-delimited body; false when the response was incomplete. */
  endOfStream(): boolean;
}

type State =
  'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'until-close' | 'done';

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEX = /^[0-9a-fA-F]{1,15}$/;
const MAX_CHUNK_LINE = 4096;

export class ResponseParseError extends Error {
  readonly code = 'WARREN_BAD_UPSTREAM_RESPONSE';
}

function parseHead(text: string): {
  head: ResponseHead;
  contentLength?: number;
  chunked: boolean;
  delimited: boolean;
  keepAlive: boolean;
} {
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine) throw new ResponseParseError(`malformed status line "${lines[0]!.slice(0, 80)}"`);
  const minor = statusLine[1]!;
  const rawHeaders: string[] = [];
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t')
      throw new ResponseParseError('malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new ResponseParseError(`malformed header name "${name.slice(0, 40)}"`);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) {
        throw new ResponseParseError(`invalid or conflicting Content-Length "${value}"`);
      }
      contentLength = Number(value);
    } else if (lower === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (lower === 'connection') {
      connection += `,${value.toLowerCase()}`;
    }
  }
  const tokens = connection.split(',').map((token) => token.trim());
  const keepAlive = minor === '1' ? !tokens.includes('close') : tokens.includes('keep-alive');
  const codings = transferEncoding
    ?.toLowerCase()
    .split(',')
    .map((coding) => coding.trim());
  const chunked = codings !== undefined && codings[codings.length - 1] === 'chunked';
  // Transfer-Encoding overrides Content-Length; one that does not end in chunked runs to the close.
  const delimited = codings !== undefined && !chunked;
  return {
    head: {
      status: Number(statusLine[2]),
      statusText: statusLine[3] ?? '',
      httpVersion: `1.${minor}`,
      rawHeaders,
    },
    ...(codings === undefined && contentLength !== undefined ? { contentLength } : {}),
    chunked,
    delimited: delimited || (codings === undefined && contentLength === undefined),
    keepAlive,
  };
}

export function createResponseParser(
  isHeadRequest: boolean,
  events: ResponseParserEvents,
  maxHeaderBytes = 64 * 1024,
): ResponseParser {
  let state: State = 'head';
  let pending: Buffer | undefined;
  let remaining = 0;
  let keepAlive = true;

  function complete(leftover: number): void {
    state = 'done';
    events.onComplete(keepAlive && leftover === 0);
  }

  function push(chunk: Buffer): void {
    let buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    while (buffer.length > 0) {
      switch (state) {
        case 'head': {
          const end = buffer.indexOf(HEAD_END);
          if (end < 0) {
            if (buffer.length > maxHeaderBytes)
              throw new ResponseParseError(`response headers exceed ${maxHeaderBytes / 1024} KiB`);
            pending = buffer;
            return;
          }
          const parsed = parseHead(buffer.toString('latin1', 0, end));
          buffer = buffer.subarray(end + 4);
          const status = parsed.head.status;
          if (status >= 100 && status < 200) {
            if (status === 101) throw new ResponseParseError('unexpected 101 Switching Protocols');
            continue; // interim response (100 Continue, 103 Early Hints): the real one follows
          }
          keepAlive = parsed.keepAlive;
          events.onHead(parsed.head);
          if (isHeadRequest || status === 204 || status === 304) {
            complete(buffer.length);
          } else if (parsed.chunked) {
            state = 'chunk-size';
          } else if (parsed.contentLength !== undefined) {
            remaining = parsed.contentLength;
            if (remaining === 0) complete(buffer.length);
            else state = 'length';
          } else {
            keepAlive = false;
            state = 'until-close';
          }
          break;
        }
        case 'length':
        case 'chunk-data': {
          const take = Math.min(remaining, buffer.length);
          events.onBody(take === buffer.length ? buffer : buffer.subarray(0, take));
          remaining -= take;
          buffer = buffer.subarray(take);
          if (remaining > 0) return;
          if (state === 'length') complete(buffer.length);
          else state = 'chunk-data-end';
          break;
        }
        case 'chunk-data-end': {
          if (buffer.length < 2) {
            pending = buffer;
            return;
          }
          if (buffer[0] !== 0x0d || buffer[1] !== 0x0a)
            throw new ResponseParseError('chunk not followed by CRLF');
          buffer = buffer.subarray(2);
          state = 'chunk-size';
          break;
        }
        case 'chunk-size':
        case 'trailers': {
          const end = buffer.indexOf('\r\n');
          if (end < 0) {
            if (buffer.length > MAX_CHUNK_LINE) throw new ResponseParseError('chunk size line too long');
            pending = buffer;
            return;
          }
          const line = buffer.toString('latin1', 0, end);
          buffer = buffer.subarray(end + 2);
          if (state === 'trailers') {
            if (line === '') complete(buffer.length);
            break;
          }
          const sizeText = line.split(';')[0]!.trim();
          if (!HEX.test(sizeText))
            throw new ResponseParseError(`invalid chunk size "${sizeText.slice(0, 20)}"`);
          remaining = parseInt(sizeText, 16);
          state = remaining === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'until-close':
          events.onBody(buffer);
          return;
        case 'done':
          // Bytes after a complete response: this connection cannot be reused.
          keepAlive = false;
          return;
      }
    }
  }

  return {
    push,
    endOfStream() {
      if (state !== 'until-close') return state === 'done';
      complete(1);
      return true;
    },
  };
}
