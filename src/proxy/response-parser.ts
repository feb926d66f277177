/**
 * An incremental HTTP/1.1 response parser for the forwarding client: status line and headers, then
 * the body framed by Content-Length, chunked encoding, or the end of the connection. Strict where
 * request smuggling hides (RFC 9112 §6.3): both Content-Length and Transfer-Encoding, conflicting
 * lengths, a transfer coding other than chunked, folded headers, bare CR or LF, control characters,
 * bad chunk sizes: it throws. The head of a chunked response is held back until its first chunk size
 * has been read, so that a malformed first chunk is still answered 502 rather than cut off.
 */

export interface ResponseHead {
  status: number;
  statusText: string;
  httpVersion: string;
  /** Node's rawHeaders shape: name, value, name, value… Framing headers are Warren's to write. */
  rawHeaders: string[];
  /**
   * The checked Content-Length: the exact body length of a response framed by it, or the length a
   * HEAD or 304 response declares. Undefined for chunked and close-delimited bodies.
   */
  contentLength?: number;
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
/**
 * Whether a head holds what Node refuses to write in a status line or header value (so a forwarded head
 * can never fail writeHead): a control other than HTAB, or a CR or LF that is not part of a CRLF. One
 * pass over the characters, cheaper than a regular expression per line on the hot path.
 */
function invalidHeadCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 0x20 && code !== 0x7f) || code === 0x09) continue;
    if (code === 0x0d && text.charCodeAt(index + 1) === 0x0a) {
      index++;
      continue;
    }
    return true;
  }
  return false;
}

/** Control characters (a bare CR or LF among them) in a chunk size line or a trailer. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const MAX_CHUNK_LINE = 4096;

export class ResponseParseError extends Error {
  readonly code = 'WARREN_BAD_UPSTREAM_RESPONSE';
}

function parseHead(text: string): {
  head: ResponseHead;
  chunked: boolean;
  keepAlive: boolean;
} {
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine) throw new ResponseParseError(`malformed status line "${lines[0]!.slice(0, 80)}"`);
  if (invalidHeadCharacter(text)) {
    const line = lines.findIndex(invalidHeadCharacter);
    throw new ResponseParseError(
      line <= 0
        ? 'malformed status line (a bare CR or LF, or a control character)'
        : `invalid character (bare CR or LF, or a control) in the header ${lines[line]!.split(':')[0]!.slice(0, 40)}`,
    );
  }
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
  if (transferEncoding !== undefined) {
    // A message with both is how smuggling starts (RFC 9112 §6.3); one coding Warren cannot re-frame
    // (gzip, chunked) would reach the client still coded.
    if (contentLength !== undefined)
      throw new ResponseParseError('the response has both Content-Length and Transfer-Encoding');
    if (transferEncoding.toLowerCase() !== 'chunked')
      throw new ResponseParseError(
        `Transfer-Encoding "${transferEncoding.slice(0, 60)}" is not one Warren forwards (chunked, once)`,
      );
  }
  const tokens = connection.split(',').map((token) => token.trim());
  const keepAlive = minor === '1' ? !tokens.includes('close') : tokens.includes('keep-alive');
  return {
    head: {
      status: Number(statusLine[2]),
      statusText: statusLine[3] ?? '',
      httpVersion: `1.${minor}`,
      rawHeaders,
      ...(contentLength !== undefined ? { contentLength } : {}),
    },
    chunked: transferEncoding !== undefined,
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
  /** The head of a chunked response, until its first chunk size was read. */
  let heldHead: ResponseHead | undefined;

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
          if (isHeadRequest || status === 204 || status === 304) {
            events.onHead(parsed.head);
            complete(buffer.length);
          } else if (parsed.chunked) {
            heldHead = parsed.head;
            state = 'chunk-size';
          } else if (parsed.head.contentLength !== undefined) {
            events.onHead(parsed.head);
            remaining = parsed.head.contentLength;
            if (remaining === 0) complete(buffer.length);
            else state = 'length';
          } else {
            events.onHead(parsed.head);
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
          if (CONTROL.test(line))
            throw new ResponseParseError(
              `a bare CR or LF, or a control character, in a ${state === 'trailers' ? 'trailer' : 'chunk size'} line`,
            );
          if (state === 'trailers') {
            if (line === '') complete(buffer.length);
            break;
          }
          const extension = line.indexOf(';');
          // Whitespace may only come before the extension (BWS), never before the size.
          const sizeText = (extension < 0 ? line : line.slice(0, extension)).replace(/[ \t]+$/, '');
          if (!HEX.test(sizeText))
            throw new ResponseParseError(`invalid chunk size "${sizeText.slice(0, 20)}"`);
          remaining = parseInt(sizeText, 16);
          state = remaining === 0 ? 'trailers' : 'chunk-data';
          if (heldHead) {
            events.onHead(heldHead);
            heldHead = undefined;
          }
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
