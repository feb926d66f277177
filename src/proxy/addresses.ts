import { isIP } from 'node:net';

/**
 * IP addresses as bytes, CIDR matching and the ranges Warren refuses unless a rule names them exactly.
 * Pure functions; no DNS here.
 */

/** An address as 4 (IPv4) or 16 (IPv6) bytes. IPv4-mapped IPv6 addresses are unwrapped to IPv4. */
export type AddressBytes = Uint8Array;

export interface Cidr {
  bytes: AddressBytes;
  prefixLength: number;
}

function parseIpv4(text: string): AddressBytes | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let index = 0; index < 4; index++) {
    const part = parts[index]!;
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[index] = value;
  }
  return bytes;
}

function parseIpv6(text: string): AddressBytes | undefined {
  const zoneless = text.split('%')[0]!;
  let head = zoneless;
  let tail = '';
  const doubleColon = zoneless.indexOf('::');
  if (doubleColon >= 0) {
    head = zoneless.slice(0, doubleColon);
    tail = zoneless.slice(doubleColon + 2);
    if (tail.includes('::')) return undefined;
  }
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index]!;
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const headGroups = toGroups(head);
  const tailGroups = toGroups(tail);
  if (!headGroups || !tailGroups) return undefined;
  const missing = 8 - headGroups.length - tailGroups.length;
  if (doubleColon >= 0 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...headGroups, ...new Array<number>(Math.max(missing, 0)).fill(0), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function unwrapMappedIpv4(bytes: AddressBytes): AddressBytes {
  if (bytes.length !== 16) return bytes;
  const isMapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address too.
  const isNat64 =
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    bytes.slice(4, 12).every((b) => b === 0);
  return isMapped || isNat64 ? bytes.slice(12) : bytes;
}

/** Parses an IPv4 or IPv6 literal (brackets allowed); undefined when it is not one. */
export function parseIp(text: string): AddressBytes | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare.split('%')[0]!) === 4) return parseIpv4(bare);
  if (isIP(bare.split('%')[0]!) === 6) {
    const bytes = parseIpv6(bare);
    return bytes && unwrapMappedIpv4(bytes);
  }
  return undefined;
}

export function formatIp(bytes: AddressBytes): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2)
    groups.push(((bytes[index]! << 8) | bytes[index + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function sameAddress(left: AddressBytes, right: AddressBytes): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefixLength = Number(prefixText);
  // An IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) was unwrapped to IPv4: shift the prefix with it.
  if (isIP(text.slice(0, slash).replace(/^\[|\]$/g, '')) === 6 && address.length === 4) prefixLength -= 96;
  if (prefixLength < 0 || prefixLength > address.length * 8) return undefined;
  return { bytes: address, prefixLength };
}

export function cidrContains(cidr: Cidr, address: AddressBytes): boolean {
  if (cidr.bytes.length !== address.length) return false;
  let remaining = cidr.prefixLength;
  for (let index = 0; remaining > 0; index++, remaining -= 8) {
    const mask = remaining >= 8 ? 0xff : (0xff << (8 - remaining)) & 0xff;
    if ((cidr.bytes[index]! & mask) !== (address[index]! & mask)) return false;
  }
  return true;
}

export type SpecialRange = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast';

/** Ranges a wildcard or CIDR rule never grants; only a rule that names the exact host or IP does. */
const SPECIAL_RANGES: ReadonlyArray<{ cidr: Cidr; kind: SpecialRange }> = (
  [
    ['169.254.169.254/32', 'metadata'],
    ['fd00:ec2::254/128', 'metadata'],
    ['0.0.0.0/8', 'unspecified'],
    ['::/128', 'unspecified'],
    ['127.0.0.0/8', 'loopback'],
    ['::1/128', 'loopback'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'private'],
    ['fc00::/7', 'private'],
    ['169.254.0.0/16', 'link-local'],
    ['fe80::/10', 'link-local'],
    ['224.0.0.0/4', 'multicast'],
    ['255.255.255.255/32', 'multicast'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([text, kind]) => ({ cidr: parseCidr(text)!, kind }));

/** Host names that reach cloud metadata services whatever they resolve to. */
const METADATA_HOSTNAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
]);

export function specialRangeOf(address: AddressBytes): SpecialRange | undefined {
  for (const range of SPECIAL_RANGES) if (cidrContains(range.cidr, address)) return range.kind;
  return undefined;
}

export function specialHostnameKind(hostname: string): SpecialRange | undefined {
  if (METADATA_HOSTNAMES.has(hostname)) return 'metadata';
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return 'loopback';
  return undefined;
}
