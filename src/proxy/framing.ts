/**
 * The proxy owns message framing (RFC 9112 §6): it decides how the body of every message it forwards is
 * delimited and writes Content-Length or Transfer-Encoding itself; the client's framing headers are never
 * copied, and `Connection` can never remove the ones Warren writes. Node's parser already refuses most
 * ambiguous requests (both headers, duplicate or malformed lengths, obs-fold, bare CR or LF, bad chunks);
 * this decides the rest from what it accepted, and refuses anything it could read two ways.
 */

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export type RequestFraming = BodyFraming | { kind: 'ambiguous'; problem: string };

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });

const ambiguous = (problem: string): RequestFraming => ({ kind: 'ambiguous', problem });

/** How the body of a request Node parsed is framed upstream; `ambiguous` is answered 400. */
export function requestFramingOf(rawHeaders: readonly string[], httpVersion: string): RequestFraming {
  let lengths = 0;
  let length: string | undefined;
  let encodings = 0;
  let coding: string | undefined;
  let hosts = 0;
  // Names are compared by length first: most headers cost one integer comparison here.
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      lengths++;
      length = rawHeaders[index + 1];
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      encodings++;
      coding = rawHeaders[index + 1];
    } else if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
    }
  }
  if (hosts > 1) return ambiguous('it has more than one Host header (RFC 9112 §3.2)');
  if (encodings > 0) {
    if (lengths > 0) return ambiguous('it has both Content-Length and Transfer-Encoding (RFC 9112 §6.3)');
    if (encodings > 1 || coding!.trim().toLowerCase() !== 'chunked')
      return ambiguous(
        `its Transfer-Encoding "${encodings > 1 ? 'given twice' : coding!.slice(0, 60)}" is not one Warren forwards (chunked, once)`,
      );
    if (httpVersion !== '1.1')
      return ambiguous(`it is an HTTP/${httpVersion} request with Transfer-Encoding (RFC 9112 §6.1)`);
    return CHUNKED;
  }
  if (lengths > 1) return ambiguous('it has more than one Content-Length');
  if (lengths === 1) {
    if (!/^\d{1,15}$/.test(length!))
      return ambiguous(`its Content-Length "${length!.slice(0, 30)}" is not a number`);
    return { kind: 'length', length: Number(length) };
  }
  return NO_BODY;
}
