import type { IncomingMessage } from 'node:http';
import { GatewayError } from './protocol/errors.js';

/** Reading JSON bodies: the caller's request (bounded, 413 beyond) and an upstream's answer (bounded, 502 beyond). */

/** Reads a body up to `limit` bytes; rejects with a 413 GatewayError beyond it. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // The client went away mid-body: nobody is left to read the answer, but it is not our fault.
    throw new GatewayError({ status: 400, kind: 'invalid-request', message: 'the request body was cut off' });
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError({
    status: 413,
    kind: 'request-too-large',
    message: `request body is larger than the gateway's limit of ${limit} bytes`,
  });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) {
    throw new GatewayError({
      status: 400,
      kind: 'invalid-request',
      message: 'request body is empty; expected JSON',
    });
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new GatewayError({
      status: 400,
      kind: 'invalid-request',
      message: `request body is not valid JSON: ${(error as Error).message}`,
    });
  }
}

/** Reads an upstream body (an error or a non-streamed answer), capped so a hostile upstream cannot exhaust memory. */
export async function readUpstreamBody(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.destroy();
      throw new GatewayError({
        status: 502,
        kind: 'upstream',
        message: `upstream answer is larger than ${limit} bytes`,
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
