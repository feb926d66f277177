import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultText } from './helpers/fake-llm.js';
import { masterKey, startGatewayFixture, type GatewayFixture } from './helpers/fake-llm-gateway.js';

/** Hostile and broken input: every answer is a 4xx in the caller's shape, and the gateway stays up. */

let fixture: GatewayFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

function post(url: string, path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const call = request(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', ...headers },
    });
    call.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Bodies no protocol can read: 400 everywhere. */
const invalid: [string, Buffer | string][] = [
  ['empty', ''],
  ['not JSON', '{"model": '],
  ['a JSON array', '[1,2,3]'],
  ['JSON null', 'null'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ['no model', '{"messages":[{"role":"user","content":"hi"}],"input":"hi","max_tokens":5}'],
  ['model of the wrong type', '{"model":42,"messages":[],"input":"hi","max_tokens":5}'],
  [
    'deeply nested JSON',
    `{"model":"gpt-fake","messages":${deep(5000)},"input":${deep(5000)},"max_tokens":5}`,
  ],
];

/**
 * Bodies an adapter may refuse or read leniently (unknown block types pass between two ends of one
 * protocol, unknown fields are ignored): anything but a 5xx, and never a crash.
 */
const odd: [string, Buffer | string][] = [
  ['messages of the wrong type', '{"model":"gpt-fake","messages":{"role":"user"},"max_tokens":5}'],
  ['a message with no role', '{"model":"gpt-fake","messages":[{"content":"hi"}],"max_tokens":5}'],
  [
    'content blocks of an unknown type',
    '{"model":"gpt-fake","messages":[{"role":"user","content":[{"type":"hologram"}]}],"max_tokens":5}',
  ],
  [
    'a tool with no name',
    '{"model":"gpt-fake","messages":[{"role":"user","content":"hi"}],"tools":[{}],"max_tokens":5}',
  ],
  [
    'a proto-polluting key',
    '{"model":"gpt-fake","__proto__":{"admin":true},"messages":"x","input":{"__proto__":{"admin":true}}}',
  ],
  [
    'numbers out of range',
    '{"model":"gpt-fake","messages":[{"role":"user","content":"hi"}],"max_tokens":1e400,"temperature":-1e308}',
  ],
];

describe('gateway robustness', () => {
  it.each(['/v1/messages', '/v1/chat/completions', '/v1/responses', '/v1/messages/count_tokens'])(
    'answers malformed bodies on %s with a 400 in its shape, odd ones without a 5xx, and keeps serving',
    async (path) => {
      fixture = await startGatewayFixture();
      const expectShape = (label: string, answer: { status: number; body: string }) => {
        const parsed = JSON.parse(answer.body) as Record<string, unknown>;
        if (path.startsWith('/v1/messages')) {
          expect(parsed, label).toMatchObject({ type: 'error', error: { message: expect.any(String) } });
        } else expect(parsed, label).toMatchObject({ error: { message: expect.any(String) } });
      };
      for (const [label, body] of invalid) {
        const answer = await post(fixture.url, path, body);
        expect(answer.status, label).toBe(400);
        expectShape(label, answer);
      }
      for (const [label, body] of odd) {
        const answer = await post(fixture.url, path, body);
        expect(answer.status, label).toBeLessThan(500);
        if (answer.status >= 400) expectShape(label, answer);
      }
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      const healthy = await post(
        fixture.url,
        '/v1/chat/completions',
        JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] }),
      );
      expect(JSON.parse(healthy.body).choices[0].message.content).toBe(defaultText);
    },
  );

  it('refuses a body over the size limit with 413 before reading it all', async () => {
    fixture = await startGatewayFixture({ gateway: { maxBodyBytes: 1024 } });
    const answer = await post(
      fixture.url,
      '/v1/messages',
      `{"model":"gpt-fake","pad":"${'x'.repeat(4096)}"}`,
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });
});

describe('hostile upstreams', () => {
  it('cuts off an upstream stream that never completes an event, and one whole answer over the cap', async () => {
    const endless = `data: {"choices":[{"index":0,"delta":{"content":"${'x'.repeat(17 * 1024 * 1024)}`;
    fixture = await startGatewayFixture({
      openai: {
        reply: (request) =>
          request.body.stream
            ? { kind: 'raw', status: 200, contentType: 'text/event-stream', body: endless }
            : {
                kind: 'raw',
                status: 200,
                contentType: 'application/json',
                body: `{"pad":"${'y'.repeat(2048)}"}`,
              },
      },
      gateway: { maxUpstreamBodyBytes: 1024 },
    });
    const streamed = await post(
      fixture.url,
      '/v1/messages',
      JSON.stringify({
        model: 'gpt-fake',
        max_tokens: 5,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(streamed.status).toBeGreaterThanOrEqual(500);
    expect(fixture.usage[0]!.error).toBeTruthy();
    const whole = await post(
      fixture.url,
      '/v1/messages',
      JSON.stringify({ model: 'gpt-fake', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(whole.status).toBe(502);
    expect(JSON.parse(whole.body)).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/larger than 1024 bytes/) },
    });
  });
});

describe('back-pressure', () => {
  it('does not buffer a stream for a caller that reads slowly: the upstream waits', async () => {
    // 24 MiB of text in 64 KiB deltas: more than the loopback socket buffers can hold between three processes' worth of sockets.
    const big = 'x'.repeat(24 * 1024 * 1024);
    fixture = await startGatewayFixture({
      openai: { textChunk: 64 * 1024, reply: () => ({ kind: 'answer', text: big }) },
    });
    const started = performance.now();
    const { received, resumedAt } = await new Promise<{ received: number; resumedAt: number }>(
      (resolve, reject) => {
        const call = request(`${fixture!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        });
        call.on('response', (response) => {
          let received = 0;
          let resumedAt = 0;
          response.pause();
          setTimeout(() => {
            resumedAt = performance.now();
            response.resume();
          }, 1_000);
          response.on('data', (chunk: Buffer) => (received += chunk.length));
          response.on('end', () => resolve({ received, resumedAt }));
        });
        call.on('error', reject);
        call.end(
          JSON.stringify({ model: 'gpt-fake', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        );
      },
    );
    expect(received).toBeGreaterThan(big.length);
    // The upstream could only finish writing once the caller started reading again.
    expect(fixture.openai.finishedAt[0]! - started).toBeGreaterThan(resumedAt - started - 50);
  });
});
