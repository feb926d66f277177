import { describe, expect, it } from 'vitest';
import { policyFromArguments } from './policy.js';
import { authorize, type LookupFunction } from './decide.js';

function recordingLookup(answers: Record<string, string[]>): LookupFunction & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (hostname: string) => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

describe('authorize', () => {
  it('never looks up a name that no rule could allow', async () => {
    const lookup = recordingLookup({});
    const result = await authorize(
      policyFromArguments({ allow: ['github.com'] }),
      'evil.example',
      443,
      lookup,
    );
    expect(result.decision.decision).toBe('deny');
    expect(lookup.asked).toEqual([]);
  });

  it('connects to the address it checked (DNS rebinding to loopback is refused)', async () => {
    const lookup = recordingLookup({
      'api.example.com': ['93.184.216.34'],
      'evil.example.com': ['127.0.0.1'],
    });
    const policy = policyFromArguments({ allow: ['*.example.com'] });
    expect(await authorize(policy, 'api.example.com', 443, lookup)).toMatchObject({
      decision: { decision: 'allow' },
      address: '93.184.216.34',
    });
    const rebinding = await authorize(policy, 'evil.example.com', 443, lookup);
    expect(rebinding.decision.decision).toBe('deny');
    expect(rebinding.address).toBeUndefined();
  });

  it('a throwing lookup denies, and says the name did not resolve', async () => {
    const lookup = recordingLookup({});
    const result = await authorize(
      policyFromArguments({ allow: ['api.example.com'] }),
      'api.example.com',
      443,
      lookup,
    );
    expect(result).toMatchObject({
      decision: { decision: 'deny' },
      resolveFailure: expect.stringContaining('ENOTFOUND'),
    });
    expect(result.address).toBeUndefined();
  });

  it('checks IP literals without DNS', async () => {
    const lookup = recordingLookup({});
    const result = await authorize(
      policyFromArguments({ allow: ['[2001:db8::1]:443'] }),
      '2001:db8::1',
      443,
      lookup,
    );
    expect(result).toMatchObject({ decision: { decision: 'allow' }, address: '2001:db8::1' });
    expect(lookup.asked).toEqual([]);
  });
});
