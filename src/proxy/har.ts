import type { CapturedBody, FlowRecord, Header } from './flow.js';

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) as an export of flow records. Pure. */

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarContent {
  size: number;
  mimeType: string;
  text?: string;
  encoding?: 'base64';
  compression?: number;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: { mimeType: string; text: string; encoding?: 'base64'; params: HarNameValue[] };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: HarContent;
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: {
    blocked: number;
    dns: number;
    connect: number;
    ssl: number;
    send: number;
    wait: number;
    receive: number;
  };
  _warren: {
    flowId: string;
    session: string;
    policy: FlowRecord['policy'];
    tls: FlowRecord['tls'];
    error?: string;
    /** What the recording limits left out of this flow (docs/proxy.md, "Recording limits"). */
    recording?: FlowRecord['recording'];
    requestBodyTruncated: boolean;
    responseBodyTruncated: boolean;
  };
}

export interface Har {
  log: { version: '1.2'; creator: { name: string; version: string }; entries: HarEntry[] };
}

const TEXT_MIME = /^text\/|[/+](json|xml|javascript|x-www-form-urlencoded|event-stream|x-ndjson|graphql)\b/i;

function headerValue(headers: Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([candidate]) => candidate.toLowerCase() === lower)?.[1];
}

function nameValues(headers: Header[]): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value }));
}

/** Text when the type says so and the bytes are valid UTF-8 (compressed bodies are not): else base64. */
function bodyText(body: CapturedBody, mimeType: string, contentEncoding: string | undefined) {
  const identity = contentEncoding === undefined || contentEncoding.toLowerCase() === 'identity';
  if (identity && TEXT_MIME.test(mimeType)) {
    const text = body.data.toString('utf8');
    if (!text.includes('\uFFFD') || Buffer.from(text, 'utf8').equals(body.data)) return { text };
  }
  return { text: body.data.toString('base64'), encoding: 'base64' as const };
}

function queryStringOf(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function nonNegative(value: number): number {
  return value >= 0 ? Math.round(value * 1000) / 1000 : 0;
}

function optional(value: number): number {
  return value >= 0 ? Math.round(value * 1000) / 1000 : -1;
}

function toEntry(flow: FlowRecord): HarEntry {
  const timings = {
    blocked: optional(flow.timings.blocked),
    dns: optional(flow.timings.dns),
    connect: optional(flow.timings.connect),
    ssl: optional(flow.timings.ssl),
    send: nonNegative(flow.timings.send),
    wait: nonNegative(flow.timings.wait),
    receive: nonNegative(flow.timings.receive),
  };
  const phases = Object.values(timings).reduce((sum, value) => sum + Math.max(value, 0), 0);
  const requestBody = flow.request.body;
  const requestMime = headerValue(flow.request.headers, 'content-type') ?? 'application/octet-stream';
  const response = flow.response;
  const responseMime = response
    ? (headerValue(response.headers, 'content-type') ?? 'x-unknown')
    : 'x-unknown';
  const content: HarContent = { size: response?.body.size ?? 0, mimeType: responseMime };
  if (response && response.body.data.length > 0) {
    Object.assign(
      content,
      bodyText(response.body, responseMime, headerValue(response.headers, 'content-encoding')),
    );
  }
  const entry: HarEntry = {
    startedDateTime: new Date(flow.startedAt).toISOString(),
    time: flow.durationMs >= 0 ? flow.durationMs : phases,
    request: {
      method: flow.method,
      url: flow.url,
      httpVersion: flow.httpVersion,
      cookies: [],
      headers: nameValues(flow.request.headers),
      queryString: queryStringOf(flow.url),
      headersSize: -1,
      bodySize: requestBody.size,
    },
    response: {
      status: response?.status ?? 0,
      statusText: response?.statusText ?? '',
      httpVersion: response?.httpVersion ?? '',
      cookies: [],
      headers: response ? nameValues(response.headers) : [],
      content,
      redirectURL: (response && headerValue(response.headers, 'location')) ?? '',
      headersSize: -1,
      bodySize: response ? response.body.size : -1,
    },
    cache: {},
    timings,
    _warren: {
      flowId: flow.id,
      session: flow.sessionId,
      policy: flow.policy,
      tls: flow.tls,
      requestBodyTruncated: requestBody.truncated,
      responseBodyTruncated: response?.body.truncated ?? false,
    },
  };
  if (flow.error !== undefined) entry._warren.error = flow.error;
  if (flow.recording !== undefined) entry._warren.recording = flow.recording;
  if (requestBody.size > 0) {
    const encoded = bodyText(requestBody, requestMime, headerValue(flow.request.headers, 'content-encoding'));
    entry.request.postData = { mimeType: requestMime, params: [], ...encoded };
  }
  return entry;
}

export function flowsToHar(
  flows: readonly FlowRecord[],
  options: { creator?: { name: string; version: string } } = {},
): Har {
  return {
    log: {
      version: '1.2',
      creator: options.creator ?? { name: 'Warren', version: '0.1.0' },
      entries: flows.map(toEntry),
    },
  };
}
