/**
 * Which downloads the proxy may keep and serve again: files that a registry never changes once published.
 * Rules are data; each explains itself in flows and docs. Matching is by path (any host: mirrors and private
 * registries lay files out the same way), and the cache key is the whole URL, so hosts never share entries.
 */
export interface DownloadCacheRule {
  name: string;
  pattern: RegExp;
  explain: string;
}

export const IMMUTABLE_DOWNLOAD_RULES: readonly DownloadCacheRule[] = [
  {
    name: 'npm-tarball',
    pattern: /^\/(?:@[^/]+\/)?[^/]+\/-\/[^/]+\.tgz$/,
    explain: 'npm package tarball (/<name>/-/<name>-<version>.tgz): a published version never changes',
  },
  {
    name: 'pypi-file',
    pattern: /^\/packages\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{60}\/[^/]+\.(?:whl|tar\.gz|zip|tar\.bz2)$/,
    explain: 'PyPI distribution file under its content hash (/packages/xx/yy/<hash>/<file>)',
  },
  {
    name: 'crate',
    pattern: /^\/crates\/[^/]+\/[^/]+\.crate$/,
    explain:
      'crates.io crate file (/crates/<name>/<name>-<version>.crate); cargo checks it against the index checksum',
  },
  {
    name: 'go-module',
    pattern: /\/@v\/v[^/]+\.(?:zip|mod)$/,
    explain: 'Go module zip or go.mod of a version; the go command checks it against sum.golang.org',
  },
];

/** Headers that make a response specific to one client: never served to another session. */
const PERSONAL_REQUEST_HEADERS = new Set(['authorization', 'cookie', 'range', 'if-range']);

/**
 * The rule a request falls under, or undefined when it must go upstream: only GET, no query, and nothing in the
 * request that makes the answer personal (credentials: a private package must not reach another session).
 */
export function downloadCacheRuleFor(
  method: string,
  path: string,
  rawHeaders: readonly string[],
): DownloadCacheRule | undefined {
  if (method !== 'GET' || path.includes('?')) return undefined;
  for (let index = 0; index < rawHeaders.length; index += 2)
    if (PERSONAL_REQUEST_HEADERS.has((rawHeaders[index] ?? '').toLowerCase())) return undefined;
  return IMMUTABLE_DOWNLOAD_RULES.find((rule) => rule.pattern.test(path));
}
