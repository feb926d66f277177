import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { WarrenError } from '../../errors/index.js';

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(JSON.stringify(body));
}

/** A download: `Content-Disposition: attachment` so that the browser saves it and never renders it. */
export function sendDownload(
  response: ServerResponse,
  fileName: string,
  contentType: string,
  body: string | Buffer,
): void {
  response.writeHead(200, {
    'Content-Type': contentType,
    'Content-Disposition': `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(body);
}

/** A file download streamed from disk (recordings reach hundreds of megabytes). */
export function sendFileDownload(
  response: ServerResponse,
  fileName: string,
  contentType: string,
  path: string,
): void {
  response.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': String(statSync(path).size),
    'Content-Disposition': `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  const stream = createReadStream(path);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

const MAX_JSON_BYTES = 1024 * 1024;

/** Reads a JSON body (at most 1 MiB) and validates it; any problem is a 400 that names the field. */
export async function readJson<T extends z.ZodTypeAny>(
  request: IncomingMessage,
  schema: T,
): Promise<z.infer<T>> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    throw new WarrenError('invalid-argument', 'the request body must be JSON', {
      hint: 'send Content-Type: application/json',
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES)
      throw new WarrenError('invalid-argument', 'the request body is larger than 1 MiB');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new WarrenError('invalid-argument', 'the request body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    throw new WarrenError('invalid-argument', `invalid request: ${problems.join('; ')}`);
  }
  return parsed.data as z.infer<T>;
}
