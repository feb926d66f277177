import { describe, expect, it } from 'vitest';
import type { FlowRecord } from './flow.js';
import { flowsToHar } from './har.js';
import { validateHar } from './har-validate.js';

const baseFlow: FlowRecord = {
  id: 'f1',
  sessionId: 's1',
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  durationMs: 12.5,
  timings: { blocked: -1, dns: 1, connect: -1, ssl: -1, send: 0.5, wait: 10, receive: 1 },
  method: 'POST',
  url: 'https://api.test/v1/messages?beta=true',
  scheme: 'https',
  host: 'api.test',
  port: 443,
  httpVersion: 'HTTP/1.1',
  request: {
    headers: [
      ['Content-Type', 'application/json'],
      ['Authorization', '[redacted]'],
    ],
    body: { size: 5000, data: Buffer.from('{"model":'), truncated: true },
  },
  response: {
    status: 302,
    statusText: 'Found',
    httpVersion: 'HTTP/1.1',
    headers: [
      ['Content-Type', 'text/event-stream'],
      ['Location', 'https://api.test/next'],
    ],
    body: { size: 15, data: Buffer.from('data: héllo\n\n'), truncated: false },
  },
  tls: { mode: 'intercepted', sni: 'api.test', alpn: 'http/1.1' },
  policy: {
    decision: 'allow',
    rule: '--allow api.test',
    reason: 'the rule --allow api.test allows api.test:443',
  },
};

describe('flowsToHar', () => {
  it('produces every required HAR 1.2 field, text bodies as text, custom _warren fields', () => {
    const har = flowsToHar([baseFlow], { creator: { name: 'test', version: '9' } });
    expect(validateHar(har)).toEqual([]);
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'test', version: '9' } });
    const [entry] = har.log.entries;
    expect(entry).toMatchObject({
      startedDateTime: '2026-01-02T03:04:05.000Z',
      time: 12.5,
      request: { method: 'POST', bodySize: 5000, headersSize: -1, cookies: [] },
      response: { status: 302, redirectURL: 'https://api.test/next', bodySize: 15 },
      cache: {},
      timings: { blocked: -1, dns: 1, send: 0.5, wait: 10, receive: 1 },
      _warren: { flowId: 'f1', session: 's1', requestBodyTruncated: true, tls: { mode: 'intercepted' } },
    });
    expect(entry!.request.queryString).toEqual([{ name: 'beta', value: 'true' }]);
    expect(entry!.request.postData).toEqual({ mimeType: 'application/json', text: '{"model":', params: [] });
    expect(entry!.response.content).toEqual({
      size: 15,
      mimeType: 'text/event-stream',
      text: 'data: héllo\n\n',
    });
  });

  it('base64-encodes binary and compressed bodies, and fills a missing response', () => {
    const gzip: FlowRecord = {
      ...baseFlow,
      response: {
        ...baseFlow.response!,
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-Encoding', 'gzip'],
        ],
        body: { size: 3, data: Buffer.from([0x1f, 0x8b, 0x08]), truncated: false },
      },
    };
    const failed: FlowRecord = { ...baseFlow, response: undefined, durationMs: -1, error: 'ECONNREFUSED' };
    const har = flowsToHar([gzip, failed]);
    expect(validateHar(har)).toEqual([]);
    expect(har.log.creator.name).toBe('Warren');
    expect(har.log.entries[0]!.response.content).toMatchObject({ encoding: 'base64', text: 'H4sI' });
    expect(har.log.entries[1]!.response).toMatchObject({ status: 0, bodySize: -1, content: { size: 0 } });
    expect(har.log.entries[1]!._warren.error).toBe('ECONNREFUSED');
    expect(har.log.entries[1]!.time).toBe(12.5);
  });

  it('the validator reports missing and mistyped fields by path', () => {
    const problems = validateHar({
      log: { version: '1.2', creator: { name: 'x' }, entries: [{ time: 'soon' }] },
    });
    expect(problems).toContain('log.creator.version: expected string, got missing');
    expect(problems).toContain('log.entries[0].time: expected number, got string');
    expect(problems).toContain('log.entries[0].request: expected an object');
  });
});
