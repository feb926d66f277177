import { describe, expect, it } from 'vitest';
import { formatIp, parseCidr, parseIp, cidrContains } from './addresses.js';
import {
  compilePolicy,
  decide,
  decideByName,
  explainRule,
  policyFromArguments,
  compileRule,
} from './policy.js';

const allow = (...patterns: string[]) => policyFromArguments({ allow: patterns });

describe('rule parsing', () => {
  it.each([
    ['*', /every host/],
    ['*.com', /public suffix/],
    ['*.co.uk', /public suffix/],
    ['foo.*.com', /whole first label/],
    ['*foo.com', /whole first label/],
    ['example.com:0', /port "0"/],
    ['example.com:99999', /port "99999"/],
    ['example.com:http', /port "http"/],
    ['10.0.0.0/33', /CIDR/],
    ['0.0.0.0/0', /\/0 range/],
    ['exa mple.com', /not a valid host name/],
    ['[::1', /missing "\]"/],
    ['', /no host/],
  ])('refuses %s', (pattern, message) => {
    expect(() => compilePolicy([{ action: 'allow', pattern }])).toThrow(message);
  });

  it('accepts every documented shape', () => {
    const shapes = [
      'example.com',
      '*.example.com',
      '1.2.3.4',
      '1.2.3.4:443',
      '2001:db8::1',
      '[2001:db8::1]:443',
    ];
    shapes.push(
      '203.0.113.0/24',
      '203.0.113.0/24:8443',
      '2001:db8::/32',
      '[2001:db8::/32]:443',
      'EXAMPLE.com.',
    );
    for (const pattern of shapes) expect(() => compileRule({ action: 'allow', pattern })).not.toThrow();
    expect(compileRule({ action: 'allow', pattern: '[2001:db8::1]:443' }).port).toBe(443);
  });

  it('explains rules in words', () => {
    const [wildcard, exact] = allow('*.github.com', 'api.test:8443').rules;
    expect(explainRule(wildcard!)).toBe(
      '--allow *.github.com (subdomains of github.com (not github.com itself), any port)',
    );
    expect(explainRule(exact!)).toBe('--allow api.test:8443 (the host api.test, port 8443)');
    const cidr = compileRule({ action: 'deny', pattern: '2001:db8::/32', reason: 'lab network' });
    expect(explainRule(cidr)).toBe(
      '--deny 2001:db8::/32 (addresses in 2001:db8::/32, any port): lab network',
    );
    expect(allow('example.com').explain()).toEqual([
      '--allow example.com (the host example.com, any port)',
      'anything else: denied (loopback, private, link-local and metadata addresses need a rule naming them exactly)',
    ]);
  });
});

describe('addresses', () => {
  it('parses IPv6 forms and unwraps IPv4-mapped addresses', () => {
    expect(formatIp(parseIp('::ffff:127.0.0.1')!)).toBe('127.0.0.1');
    expect(formatIp(parseIp('[::1]')!)).toBe('::1');
    expect(formatIp(parseIp('2001:db8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
    expect(parseIp('example.com')).toBeUndefined();
    expect(parseIp('1.2.3.256')).toBeUndefined();
    expect(cidrContains(parseCidr('fc00::/7')!, parseIp('fd00:ec2::254')!)).toBe(true);
    expect(cidrContains(parseCidr('172.16.0.0/12')!, parseIp('172.32.0.1')!)).toBe(false);
  });
});

describe('decisions', () => {
  it('denies by default, before any lookup', () => {
    const decision = decideByName(allow('github.com'), 'evil.example', 443);
    expect(decision).toEqual({
      decision: 'deny',
      reason: 'no --allow rule matches evil.example:443, and Warren denies by default',
    });
  });

  it('an exact rule allows that host only; a wildcard allows subdomains only', () => {
    const policy = allow('example.com', '*.github.com');
    expect(decide(policy, 'example.com', 443, ['93.184.216.34']).decision).toBe('allow');
    expect(decide(policy, 'www.example.com', 443, ['93.184.216.34']).decision).toBe('deny');
    expect(decide(policy, 'api.github.com', 443, ['140.82.112.6']).rule).toBe('--allow *.github.com');
    expect(decide(policy, 'github.com', 443, ['140.82.112.6']).decision).toBe('deny');
    expect(decideByName(policy, 'github.com', 443)).not.toBe('resolve');
  });

  it('deny wins over allow', () => {
    const policy = policyFromArguments({ allow: ['*.example.com'], deny: ['secret.example.com'] });
    const decision = decide(policy, 'secret.example.com', 443, ['93.184.216.34']);
    expect(decision).toMatchObject({ decision: 'deny', rule: '--deny secret.example.com' });
    expect(decideByName(policy, 'Secret.Example.com.', 443)).toMatchObject({ decision: 'deny' });
  });

  it('port-scoped rules match only their port', () => {
    const policy = allow('example.com:443', '[2001:db8::1]:8443');
    expect(decide(policy, 'example.com', 443, ['93.184.216.34']).decision).toBe('allow');
    expect(decide(policy, 'example.com', 80, ['93.184.216.34']).decision).toBe('deny');
    expect(decide(policy, '2001:db8::1', 8443, ['2001:db8::1']).decision).toBe('allow');
    expect(decide(policy, '[2001:db8::1]', 443, ['2001:db8::1']).decision).toBe('deny');
  });

  it('CIDR rules match literals and resolved addresses, IPv4 and IPv6', () => {
    const policy = allow('203.0.113.0/24', '2001:db8::/32');
    expect(decide(policy, '203.0.113.9', 80, ['203.0.113.9']).decision).toBe('allow');
    expect(decide(policy, 'cdn.example', 443, ['203.0.113.77']).decision).toBe('allow');
    expect(decide(policy, 'cdn.example', 443, ['198.51.100.1']).decision).toBe('deny');
    expect(decide(policy, '2001:db8:1::5', 443, ['2001:db8:1::5']).decision).toBe('allow');
    const deny = policyFromArguments({ allow: ['cdn.example'], deny: ['203.0.113.0/24'] });
    expect(decide(deny, 'cdn.example', 443, ['203.0.113.77'])).toMatchObject({
      decision: 'deny',
      reason: 'the rule --deny 203.0.113.0/24 matches cdn.example:443 (resolved to 203.0.113.77)',
    });
  });

  it('a wildcard or CIDR never grants loopback, private, link-local or metadata destinations', () => {
    const policy = allow('*.example.com', '10.0.0.0/8', '0.0.0.0/1', '128.0.0.0/1', '::/1');
    const rebinding = decide(policy, 'evil.example.com', 80, ['127.0.0.1']);
    expect(rebinding.decision).toBe('deny');
    expect(rebinding.reason).toBe(
      'evil.example.com resolves to 127.0.0.1, a loopback address, and only a rule naming evil.example.com ' +
        'exactly (not a wildcard or a CIDR like --allow *.example.com) can allow it',
    );
    expect(decide(policy, '10.1.2.3', 80, ['10.1.2.3']).decision).toBe('deny');
    expect(decide(policy, '169.254.169.254', 80, ['169.254.169.254']).reason).toContain('metadata address');
    expect(decide(policy, '::ffff:127.0.0.1', 80, ['::ffff:127.0.0.1']).decision).toBe('deny');
    expect(decide(policy, '0.0.0.0', 80, ['0.0.0.0']).decision).toBe('deny');
    expect(decide(policy, 'a.example.com', 80, ['93.184.216.34', '192.168.1.1']).decision).toBe('deny');
  });

  it('a rule that names the exact host or IP grants a special destination', () => {
    const policy = allow('api.test', '127.0.0.1:8080', 'fd00:ec2::254', 'metadata.google.internal');
    expect(decide(policy, 'api.test', 3000, ['127.0.0.1']).decision).toBe('allow');
    expect(decide(policy, '127.0.0.1', 8080, ['127.0.0.1']).decision).toBe('allow');
    expect(decide(policy, '127.0.0.1', 8081, ['127.0.0.1']).decision).toBe('deny');
    expect(decide(policy, 'fd00:ec2::254', 80, ['fd00:ec2::254']).decision).toBe('allow');
    expect(decide(policy, 'metadata.google.internal', 80, ['169.254.169.254']).decision).toBe('allow');
    expect(decide(allow('*.google.internal'), 'metadata.google.internal', 80, ['8.8.8.8']).decision).toBe(
      'deny',
    );
  });

  it('denies when the name resolved to nothing, or when deciding throws', () => {
    expect(decide(allow('example.com'), 'example.com', 443, []).decision).toBe('deny');
    const broken = decide(allow('example.com'), 'example.com', 443, ['not an address']);
    expect(broken).toMatchObject({ decision: 'deny' });
    expect(broken.reason).toMatch(/deciding failed/);
    const throwing = {
      get rules(): never {
        throw new Error('boom');
      },
      explain: () => [],
    };
    expect(decideByName(throwing, 'example.com', 443)).toMatchObject({ decision: 'deny' });
  });
});
