import { WarrenError, type WarrenErrorCode } from '../../errors/index.js';
import type { GatewayErrorInfo, GatewayErrorKind } from './types.js';

/**
 * An error the gateway answers in the caller's protocol shape. Adapters throw it for invalid input
 * (status 400) and for upstream bodies they cannot read (502); the routes encode it with `encodeError`.
 */
export class GatewayError extends WarrenError {
  readonly status: number;
  readonly kind: GatewayErrorKind;
  readonly param: string | undefined;

  constructor(info: GatewayErrorInfo, options: { hint?: string; cause?: unknown } = {}) {
    super(warrenCodeForStatus(info.status), info.message, options);
    this.name = 'GatewayError';
    this.status = info.status;
    this.kind = info.kind ?? kindForStatus(info.status);
    this.param = info.param;
  }

  toInfo(): GatewayErrorInfo {
    return {
      status: this.status,
      message: this.message,
      kind: this.kind,
      ...(this.param ? { param: this.param } : {}),
    };
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}

/** A 400 naming the offending field, e.g. `messages[2].content[0].type: expected one of ...`. */
export function invalidRequest(param: string, message: string): GatewayError {
  return new GatewayError({ status: 400, kind: 'invalid-request', message: `${param}: ${message}`, param });
}

/** A 502: the upstream answered something that is not a valid response of its protocol. */
export function badUpstreamBody(message: string): GatewayError {
  return new GatewayError({
    status: 502,
    kind: 'upstream',
    message: `invalid upstream response: ${message}`,
  });
}

/** Any thrown value as neutral error info; unknown errors become a 500 without leaking internals. */
export function toErrorInfo(error: unknown): GatewayErrorInfo {
  if (isGatewayError(error)) return error.toInfo();
  return { status: 500, kind: 'internal', message: 'internal gateway error' };
}

export function kindForStatus(status: number): GatewayErrorKind {
  if (status === 400 || status === 422) return 'invalid-request';
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 404) return 'not-found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 413) return 'request-too-large';
  if (status === 429) return 'rate-limit';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return 'upstream';
  if (status >= 400) return 'invalid-request';
  return 'internal';
}

/** The HTTP status a neutral error kind implies, for errors that arrive inside a stream without one. */
export function statusForKind(kind: GatewayErrorKind): number {
  switch (kind) {
    case 'invalid-request':
      return 400;
    case 'authentication':
      return 401;
    case 'permission':
      return 403;
    case 'not-found':
      return 404;
    case 'request-too-large':
      return 413;
    case 'rate-limit':
      return 429;
    case 'timeout':
      return 504;
    case 'overloaded':
      return 529;
    case 'upstream':
      return 502;
    case 'internal':
      return 500;
  }
}

function warrenCodeForStatus(status: number): WarrenErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status >= 400 && status < 500) return 'invalid-argument';
  if (status >= 502) return 'upstream-failed';
  return 'internal';
}
