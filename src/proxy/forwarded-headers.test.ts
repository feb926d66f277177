import { describe, expect, it } from 'vitest';
import { endToEndHeaders } from './forwarded-headers.js';

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers, those named by Connection, and the framing headers', () => {
    const raw = [
      'Host',
      'a',
      'Connection',
      'keep-alive, X-Secret-Hop',
      'X-Secret-Hop',
      '1',
      'Proxy-Authorization',
      'b',
    ];
    raw.push('Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'X-Kept', 'yes');
    raw.push('Content-Length', '3');
    expect(endToEndHeaders(raw, false)).toEqual(['Host', 'a', 'X-Kept', 'yes']);
    const upgrade = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
    expect(endToEndHeaders(upgrade, true)).toEqual(upgrade);
  });
});
