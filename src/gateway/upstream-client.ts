import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { GatewayErrorInfo } from './protocol/types.js';

/**
 * HTTP to providers with node:http(s) and keep-alive agents: no extra dependency, and the same
 * connection pool serves every call of one gateway. Bodies are not buffered here: the caller reads
 * the response as a stream.
 */

export interface UpstreamCall {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Until the response headers arrive. */
  firstByteTimeoutMs: number;
  /** Longest silence allowed on the socket once the answer has begun. */
  idleTimeoutMs: number;
  signal: AbortSignal;
}

export interface UpstreamClient {
  /** Resolves with the response once its headers arrive; rejects with an UpstreamFailure. */
  send(call: UpstreamCall): Promise<IncomingMessage>;
  close(): void;
}

/** A call that got no HTTP answer: connection refused or reset, timeout, abort. */
export class UpstreamFailure extends Error {
  readonly info: GatewayErrorInfo;
  /** Worth trying the next deployment. */
  readonly retryable: boolean;

  constructor(info: GatewayErrorInfo, retryable: boolean, options: { cause?: unknown } = {}) {
    super(info.message, options);
    this.name = 'UpstreamFailure';
    this.info = info;
    this.retryable = retryable;
  }
}

/** 429, 5xx (and Anthropic's 529 "overloaded") are worth another deployment; other 4xx are the caller's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export function createUpstreamClient(options: { maxSocketsPerHost?: number } = {}): UpstreamClient {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSocketsPerHost ?? 256,
    scheduling: 'lifo' as const,
  };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  return {
    send(call) {
      return new Promise((resolve, reject) => {
        const secure = call.url.protocol === 'https:';
        const where = `${call.url.protocol}//${call.url.host}`;
        const body = Buffer.from(call.body, 'utf8');
        const request = (secure ? httpsRequest : httpRequest)(call.url, {
          method: 'POST',
          agent: secure ? httpsAgent : httpAgent,
          headers: { ...call.headers, 'content-length': String(body.length) },
        });
        let settled = false;
        const fail = (failure: UpstreamFailure) => {
          if (settled) return;
          settled = true;
          clearTimeout(firstByteTimer);
          call.signal.removeEventListener('abort', onAbort);
          request.destroy();
          reject(failure);
        };
        const firstByteTimer = setTimeout(() => {
          fail(
            new UpstreamFailure(
              {
                status: 504,
                kind: 'timeout',
                message: `upstream ${where} sent no answer within ${call.firstByteTimeoutMs} ms`,
              },
              true,
            ),
          );
        }, call.firstByteTimeoutMs);
        const onAbort = () =>
          fail(
            new UpstreamFailure({ status: 499, kind: 'internal', message: 'the client went away' }, false),
          );
        if (call.signal.aborted) {
          onAbort();
          return;
        }
        call.signal.addEventListener('abort', onAbort, { once: true });
        request.on('error', (error: NodeJS.ErrnoException) => {
          fail(
            new UpstreamFailure(
              {
                status: 502,
                kind: 'upstream',
                message: `upstream ${where} unreachable: ${error.code ?? error.message}`,
              },
              true,
              { cause: error },
            ),
          );
        });
        request.on('response', (response) => {
          if (settled) {
            response.destroy();
            return;
          }
          settled = true;
          clearTimeout(firstByteTimer);
          // From here on the reader owns the response; abort now means destroying it.
          call.signal.removeEventListener('abort', onAbort);
          call.signal.addEventListener('abort', () => response.destroy(), { once: true });
          response.setTimeout(call.idleTimeoutMs, () =>
            response.destroy(new Error(`upstream ${where} went silent for ${call.idleTimeoutMs} ms`)),
          );
          resolve(response);
        });
        request.end(body);
      });
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
