import type { SseEvent, SseParser } from './types.js';

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

/**
 * Server-Sent Events parser (WHATWG rules): lines end in CRLF, LF or CR; a blank line dispatches; several
 * `data:` lines join with "\n"; lines starting with ":" are comments. Bytes are decoded with a streaming
 * TextDecoder, so a UTF-8 character split across network chunks comes out whole, and a CR at the end of
 * one chunk waits to see whether the next begins with LF.
 */
export function createSseParser(): SseParser {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let eventName: string | undefined;
  let dataLines: string[] = [];
  let lastId: string | undefined;
  /** How much of `buffer` is known to hold no line end (a CR at its very end is left unscanned). */
  let scanned = 0;

  function processLine(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (dataLines.length > 0) {
        const event: SseEvent = { data: dataLines.join('\n') };
        if (eventName !== undefined) event.event = eventName;
        if (lastId !== undefined) event.id = lastId;
        events.push(event);
      }
      eventName = undefined;
      dataLines = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    else if (field === 'event') eventName = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
  }

  function drain(final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    let lineStart = 0;
    // Resume where the last scan stopped: rescanning a long unfinished line on every chunk is quadratic.
    let index = scanned;
    while (index < buffer.length) {
      const code = buffer.charCodeAt(index);
      if (code === LINE_FEED || code === CARRIAGE_RETURN) {
        if (code === CARRIAGE_RETURN && index + 1 === buffer.length && !final) break;
        processLine(buffer.slice(lineStart, index), events);
        index += code === CARRIAGE_RETURN && buffer.charCodeAt(index + 1) === LINE_FEED ? 2 : 1;
        lineStart = index;
      } else {
        index += 1;
      }
    }
    buffer = buffer.slice(lineStart);
    scanned = index - lineStart;
    return events;
  }

  return {
    push(chunk) {
      buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      return drain(false);
    },
    end() {
      buffer += decoder.decode();
      const events = drain(true);
      // A last event without its blank line still counts: upstreams that close abruptly often omit it.
      if (buffer !== '') processLine(buffer, events);
      buffer = '';
      scanned = 0;
      processLine('', events);
      return events;
    },
  };
}

/** One SSE frame. `data` is serialized as JSON unless it is already a string. */
export function formatSseEvent(event: string | undefined, data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return (event === undefined ? '' : `event: ${event}\n`) + `data: ${text}\n\n`;
}
