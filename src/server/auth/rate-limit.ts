/** Decides whether one more attempt from a key (a client address) is allowed right now. */
export interface RateLimiter {
  /** Counts an attempt; `allowed` is false once the key used up its attempts in the window. */
  attempt(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number };
  /** Forgets a key's attempts (after a successful login). */
  reset(key: string): void;
}

export interface RateLimiterOptions {
  attempts: number;
  windowMs: number;
  now?: () => number;
  /** Bound on remembered keys, so that a flood of addresses cannot grow memory without limit. */
  maxKeys?: number;
}

/** Fixed window per key. The caller owns the limiter; it keeps no timers. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 10_000;
  const windows = new Map<string, { startedAt: number; count: number }>();
  const forgetExpired = (at: number) => {
    for (const [key, window] of windows) if (at - window.startedAt >= options.windowMs) windows.delete(key);
  };
  return {
    attempt(key) {
      const at = now();
      let window = windows.get(key);
      if (!window || at - window.startedAt >= options.windowMs) {
        if (windows.size >= maxKeys) forgetExpired(at);
        // Still full: every remembered key is inside its window. Refuse rather than forget (fail closed).
        if (windows.size >= maxKeys)
          return { allowed: false, retryAfterSeconds: Math.ceil(options.windowMs / 1000) };
        window = { startedAt: at, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count <= options.attempts) return { allowed: true };
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + options.windowMs - at) / 1000)),
      };
    },
    reset(key) {
      windows.delete(key);
    },
  };
}
