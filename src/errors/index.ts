/**
 * The one error class of Warren. `code` is stable and machine-readable; `hint` says what the user can do.
 * HTTP status mapping happens in one place per surface (server, gateway, proxy), keyed by `code`.
 */
export type WarrenErrorCode =
  | 'invalid-config'
  | 'invalid-argument'
  | 'missing-dependency'
  | 'driver-unavailable'
  | 'sandbox-failed'
  | 'policy-denied'
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate-limited'
  | 'conflict'
  | 'misdirected'
  | 'upstream-failed'
  | 'internal';

export class WarrenError extends Error {
  readonly code: WarrenErrorCode;
  readonly hint: string | undefined;

  constructor(code: WarrenErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WarrenError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isWarrenError(error: unknown): error is WarrenError {
  return error instanceof WarrenError;
}

/** One line for a terminal: message, then what to do. */
export function formatError(error: unknown): string {
  if (isWarrenError(error)) return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
