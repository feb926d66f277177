import { describe, expect, it } from 'vitest';
import type { FlowRecord, Header } from './flow.js';
import { createRecordingBudget } from './recording-budget.js';

function flow(options: {
  requestHeaders?: Header[];
  body?: number;
  url?: string;
  reason?: string;
}): FlowRecord {
  const body = Buffer.alloc(options.body ?? 0, 'b');
  return {
    id: 'id',
    sessionId: 's',
    startedAt: 0,
    durationMs: 1,
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    method: 'GET',
    url: options.url ?? 'http://a.test/',
    scheme: 'http',
    host: 'a.test',
    port: 80,
    httpVersion: 'HTTP/1.1',
    request: {
      headers: options.requestHeaders ?? [['Host', 'a.test']],
      body: { size: 0, data: Buffer.alloc(0), truncated: false },
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [['Content-Length', String(body.length)]],
      body: { size: body.length, data: body, truncated: false },
    },
    tls: { mode: 'none' },
    policy: { decision: 'allow', reason: options.reason ?? 'allowed' },
  };
}

/** One flow of 400 body bytes (427 bytes with its headers) fits; a second does not. */
const limits = { headerCapBytes: 100, sessionBudgetBytes: 800, bodyCapBytes: 400 };

describe('recording budget', () => {
  it('leaves a flow within every limit as it is, with no recording note', () => {
    const budget = createRecordingBudget(limits);
    const small = flow({ body: 10 });
    budget.admit(small);
    expect(small).toEqual(flow({ body: 10 }));
    expect(small.recording).toBeUndefined();
  });

  it('keeps headers while they fit in the per-flow cap, and counts the bytes of those it leaves out', () => {
    const budget = createRecordingBudget(limits);
    const big = flow({
      requestHeaders: [
        ['Host', 'a.test'],
        ['X-Big', 'x'.repeat(200)],
        ['Accept', '*/*'],
      ],
    });
    budget.admit(big);
    expect(big.request.headers).toEqual([
      ['Host', 'a.test'],
      ['Accept', '*/*'],
    ]);
    expect(big.response!.headers).toEqual([['Content-Length', '0']]);
    expect(big.recording).toEqual({ droppedBytes: 'X-Big'.length + 200, metadataOnly: false });
  });

  it('cuts long URLs and reasons on every flow, and counts the cut', () => {
    const budget = createRecordingBudget(limits);
    const long = flow({ url: `http://a.test/${'p'.repeat(5000)}`, reason: 'r'.repeat(1500) });
    budget.admit(long);
    expect(long.url).toHaveLength(4096);
    expect(long.policy.reason).toHaveLength(1024);
    expect(long.recording).toEqual({ droppedBytes: 14 + 5000 - 4096 + 1500 - 1024, metadataOnly: false });
  });

  it('keeps metadata only from the flow that would cross the session budget on, counting all it leaves out', () => {
    const budget = createRecordingBudget(limits);
    const first = flow({ body: 400 });
    budget.admit(first);
    expect(first.recording).toBeUndefined();
    expect(budget.spent).toBe(false);
    const crossing = flow({ body: 400 });
    budget.admit(crossing);
    expect(budget.spent).toBe(true);
    expect(crossing.recording).toEqual({
      droppedBytes: 'Host'.length + 'a.test'.length + 'Content-Length'.length + '400'.length + 400,
      metadataOnly: true,
    });
    expect(crossing.request.headers).toEqual([]);
    expect(crossing.response).toMatchObject({
      status: 200,
      headers: [],
      body: { size: 400, truncated: true },
    });
    expect(crossing.response!.body.data).toHaveLength(0);
    // A small flow after it would fit in what is left, but the budget stays spent: the cut is one place in time.
    const small = flow({ body: 1 });
    budget.admit(small);
    expect(small.recording?.metadataOnly).toBe(true);
  });

  it('a budget of 0 keeps metadata only from the first flow; a metadata-only record stays small', () => {
    const budget = createRecordingBudget({ ...limits, sessionBudgetBytes: 0 });
    expect(budget.spent).toBe(true);
    const huge = flow({ url: `http://a.test/${'p'.repeat(60_000)}`, reason: 'r'.repeat(60_000), body: 400 });
    huge.error = 'e'.repeat(60_000);
    budget.admit(huge);
    expect(huge.recording?.metadataOnly).toBe(true);
    expect(
      JSON.stringify(huge, (key, value: unknown) => (key === 'data' ? undefined : value)).length,
    ).toBeLessThan(1536);
  });
});
