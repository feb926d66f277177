import type { ServerResponse } from 'node:http';
import { isWarrenError, type WarrenErrorCode } from '../../errors/index.js';

/** The one place where Warren error codes become HTTP statuses for the web API. */
const statusByCode: Record<WarrenErrorCode, number> = {
  'invalid-config': 500,
  'invalid-argument': 400,
  'missing-dependency': 503,
  'driver-unavailable': 503,
  'sandbox-failed': 500,
  'policy-denied': 403,
  'not-found': 404,
  unauthorized: 401,
  forbidden: 403,
  'rate-limited': 429,
  conflict: 409,
  misdirected: 421,
  'upstream-failed': 502,
  internal: 500,
};

export interface ApiErrorBody {
  error: { code: string; message: string; hint?: string };
}

/** Status and JSON body for any thrown value; unknown errors never leak their text to the client. */
export function describeError(error: unknown): {
  status: number;
  body: ApiErrorBody;
  retryAfterSeconds?: number;
} {
  if (isWarrenError(error)) {
    const retry = (error.cause as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    return {
      status: statusByCode[error.code],
      body: {
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      },
      ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
    };
  }
  // A full disk is the operator's to fix, not a bug: say so (its path and text stay in the server log).
  if ((error as { code?: unknown } | undefined)?.code === 'SQLITE_FULL') {
    return {
      status: 503,
      body: {
        error: {
          code: 'storage-full',
          message: 'the disk that holds Warren’s data is full: this change could not be saved',
          hint: 'free space there; running sessions go on, and their traffic is kept in memory until then',
        },
      },
      retryAfterSeconds: 30,
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error (see the server log)' } },
  };
}

export function sendError(response: ServerResponse, error: unknown): void {
  const { status, body, retryAfterSeconds } = describeError(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(retryAfterSeconds));
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(JSON.stringify(body));
}
