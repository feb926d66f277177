import type { ServerResponse } from 'node:http';
import { toErrorInfo } from './protocol/errors.js';
import type { GatewayErrorInfo, ProtocolAdapter } from './protocol/types.js';

/** How the gateway answers a caller with one JSON body: a result, or an error in the caller's shape. */

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** An error in the shape of the caller's protocol, with the status the adapter chose. */
export function sendError(response: ServerResponse, adapter: ProtocolAdapter, info: GatewayErrorInfo): void {
  const encoded = adapter.encodeError(info);
  sendJson(response, encoded.status, encoded.body);
}

/** For failures before any upstream was chosen (bad JSON, unknown model): the caller's shape, no usage row. */
export function answerFailure(response: ServerResponse, adapter: ProtocolAdapter, error: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  sendError(response, adapter, toErrorInfo(error));
}
