/**
 * Checks the fields HAR 1.2 requires, with their types. Returns the problems as `path: message`;
 * an empty list means valid. Used by tests and by anyone importing HAR files.
 */

type Check = 'string' | 'number' | 'array' | 'object';

function typeOf(value: unknown): Check | 'missing' | 'other' {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'other';
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'object' ? type : 'other';
}

function expectFields(problems: string[], path: string, value: unknown, fields: Record<string, Check>): void {
  if (typeOf(value) !== 'object') {
    problems.push(`${path}: expected an object`);
    return;
  }
  for (const [name, type] of Object.entries(fields)) {
    const actual = typeOf((value as Record<string, unknown>)[name]);
    if (actual !== type) problems.push(`${path}.${name}: expected ${type}, got ${actual}`);
  }
}

function expectNameValues(problems: string[], path: string, list: unknown): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, index) =>
    expectFields(problems, `${path}[${index}]`, item, { name: 'string', value: 'string' }),
  );
}

export function validateHar(har: unknown): string[] {
  const problems: string[] = [];
  expectFields(problems, '', har, { log: 'object' });
  const log = (har as { log?: Record<string, unknown> } | undefined)?.log;
  if (!log) return problems;
  expectFields(problems, 'log', log, { version: 'string', creator: 'object', entries: 'array' });
  expectFields(problems, 'log.creator', log.creator, { name: 'string', version: 'string' });
  const entries = Array.isArray(log.entries) ? (log.entries as Record<string, unknown>[]) : [];
  entries.forEach((entry, index) => {
    const path = `log.entries[${index}]`;
    expectFields(problems, path, entry, {
      startedDateTime: 'string',
      time: 'number',
      request: 'object',
      response: 'object',
      cache: 'object',
      timings: 'object',
    });
    if (typeof entry.startedDateTime === 'string' && Number.isNaN(Date.parse(entry.startedDateTime))) {
      problems.push(`${path}.startedDateTime: not an ISO 8601 date`);
    }
    const request = entry.request as Record<string, unknown> | undefined;
    expectFields(problems, `${path}.request`, request, {
      method: 'string',
      url: 'string',
      httpVersion: 'string',
      cookies: 'array',
      headers: 'array',
      queryString: 'array',
      headersSize: 'number',
      bodySize: 'number',
    });
    expectNameValues(problems, `${path}.request.headers`, request?.headers);
    expectNameValues(problems, `${path}.request.queryString`, request?.queryString);
    const response = entry.response as Record<string, unknown> | undefined;
    expectFields(problems, `${path}.response`, response, {
      status: 'number',
      statusText: 'string',
      httpVersion: 'string',
      cookies: 'array',
      headers: 'array',
      content: 'object',
      redirectURL: 'string',
      headersSize: 'number',
      bodySize: 'number',
    });
    expectNameValues(problems, `${path}.response.headers`, response?.headers);
    expectFields(problems, `${path}.response.content`, response?.content, {
      size: 'number',
      mimeType: 'string',
    });
    const timings = entry.timings as Record<string, unknown> | undefined;
    expectFields(problems, `${path}.timings`, timings, { send: 'number', wait: 'number', receive: 'number' });
    for (const phase of ['send', 'wait', 'receive']) {
      if (typeof timings?.[phase] === 'number' && (timings[phase] as number) < 0) {
        problems.push(`${path}.timings.${phase}: must not be negative`);
      }
    }
  });
  return problems;
}
