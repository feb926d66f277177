import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadCacheRuleFor } from './cache-rules.js';
import type { Header } from './flow.js';
import type { BodySink, ForwardHook, HookDecision, HookExchange, HookResponse } from './hooks.js';

/**
 * The proxy download cache: immutable registry downloads (cache-rules.ts) are kept on disk after the first
 * complete 200 and served from there to every later session, without contacting the registry. One cache is
 * shared by all sessions of a Warren; the caller owns it. Entries are written whole or not at all (temp file,
 * then rename; the metadata file, written last, marks an entry as complete).
 */
export interface DownloadCache {
  hook: ForwardHook;
  /** Hits and stores since this cache was created, for logs and tests. */
  stats(): { hits: number; stored: number };
  /** Files of one entry, for tests and `warren cache`. */
  entryPaths(url: string): { body: string; meta: string };
}

export interface DownloadCacheOptions {
  /** e.g. WARREN_HOME/caches/proxy */
  dir: string;
  /** Larger downloads are passed through but not kept. Default 1 GiB (hits are streamed from disk). */
  maxEntryBytes?: number;
}

interface EntryMeta {
  url: string;
  rule: string;
  size: number;
  headers: Header[];
  storedAt: number;
}

/** Response headers worth replaying; hop-by-hop and per-response ones (Date, Set-Cookie) are dropped. */
const KEPT_RESPONSE_HEADERS = new Set([
  'content-type',
  'content-encoding',
  'etag',
  'last-modified',
  'cache-control',
]);

function parseMeta(text: string): EntryMeta | undefined {
  try {
    const meta = JSON.parse(text) as Partial<EntryMeta>;
    if (typeof meta.url !== 'string' || typeof meta.size !== 'number' || !Array.isArray(meta.headers))
      return undefined;
    return meta as EntryMeta;
  } catch {
    return undefined;
  }
}

function keyOf(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let index = 0; index < rawHeaders.length; index += 2)
    if ((rawHeaders[index] ?? '').toLowerCase() === name) return rawHeaders[index + 1];
  return undefined;
}

export function createDownloadCache(options: DownloadCacheOptions): DownloadCache {
  const maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024 * 1024;
  const counters = { hits: 0, stored: 0 };
  const entryPaths = (url: string) => {
    const key = keyOf(url);
    return { body: join(options.dir, `${key}.body`), meta: join(options.dir, `${key}.json`) };
  };

  async function lookup(exchange: HookExchange): Promise<HookDecision> {
    const rule = downloadCacheRuleFor(exchange.method, exchange.path, exchange.rawHeaders);
    if (!rule) return { kind: 'continue' };
    const paths = entryPaths(exchange.url);
    const metaText = await readFile(paths.meta, 'utf8').catch(() => undefined);
    if (metaText === undefined) return { kind: 'continue' };
    const meta = parseMeta(metaText);
    if (!meta) return { kind: 'continue' }; // a damaged entry is a miss; the next complete download replaces it
    const size = await stat(paths.body).then(
      (stats) => stats.size,
      () => -1,
    );
    if (meta.url !== exchange.url || size !== meta.size) return { kind: 'continue' };
    counters.hits += 1;
    return {
      kind: 'answer',
      status: 200,
      statusText: 'OK',
      headers: [...meta.headers, ['Content-Length', String(size)], ['X-Warren-Cache', 'hit']],
      body: { file: paths.body },
      note: `served from the proxy download cache (${rule.name})`,
    };
  }

  function store(exchange: HookExchange, response: HookResponse): BodySink | undefined {
    const rule = downloadCacheRuleFor(exchange.method, exchange.path, exchange.rawHeaders);
    if (!rule || response.status !== 200) return undefined;
    const declared = headerValue(response.rawHeaders, 'content-length');
    if (declared !== undefined && Number(declared) > maxEntryBytes) return undefined;
    const paths = entryPaths(exchange.url);
    const temporary = `${paths.body}.${randomBytes(6).toString('hex')}.part`;
    let stream: WriteStream | undefined;
    let size = 0;
    let tooLarge = false;
    const ready = mkdir(options.dir, { recursive: true, mode: 0o700 }).then(() => {
      stream = createWriteStream(temporary, { mode: 0o600 });
      return stream;
    });
    const pending: Buffer[] = [];
    ready.then(
      (opened) => {
        for (const chunk of pending.splice(0)) opened.write(chunk);
      },
      () => (tooLarge = true),
    );
    return {
      write(chunk) {
        size += chunk.length;
        if (size > maxEntryBytes) tooLarge = true;
        if (tooLarge) return;
        if (stream) stream.write(chunk);
        else pending.push(chunk);
      },
      end(complete) {
        const keep = complete && !tooLarge && (declared === undefined || Number(declared) === size);
        void ready
          .then(
            (opened) =>
              new Promise<void>((resolve, reject) => {
                opened.on('error', reject);
                opened.end(resolve);
              }),
          )
          .then(async () => {
            if (!keep) return rm(temporary, { force: true });
            await rename(temporary, paths.body);
            const headers = [] as Header[];
            for (let index = 0; index < response.rawHeaders.length; index += 2) {
              const name = response.rawHeaders[index] ?? '';
              if (KEPT_RESPONSE_HEADERS.has(name.toLowerCase()))
                headers.push([name, response.rawHeaders[index + 1] ?? '']);
            }
            const meta: EntryMeta = {
              url: exchange.url,
              rule: rule.name,
              size,
              headers,
              storedAt: Date.now(),
            };
            await writeFile(paths.meta, JSON.stringify(meta), { mode: 0o600 });
            counters.stored += 1;
          })
          .catch(() => rm(temporary, { force: true }));
      },
    };
  }

  return {
    hook: { name: 'download-cache', beforeForward: lookup, onResponse: store },
    stats: () => ({ ...counters }),
    entryPaths,
  };
}
