import { existsSync } from 'node:fs';
import { z } from 'zod';
import { WarrenError } from '../../errors/index.js';
import type { CapturedBody } from '../../proxy/index.js';
import type { FlowQuery, SessionRow } from '../../store/index.js';
import { summarizeFlow } from '../events.js';
import { readJson, sendDownload, sendFileDownload, sendJson } from '../http/respond.js';
import { sessionRowOf, type ApiParts, type ApiRoute } from './context.js';

/** A body for the browser: text when it is valid UTF-8, else base64. The UI shows either as text only. */
export function describeBody(body: CapturedBody) {
  const base = { size: body.size, truncated: body.truncated };
  try {
    return {
      ...base,
      encoding: 'utf8' as const,
      data: new TextDecoder('utf-8', { fatal: true }).decode(body.data),
    };
  } catch {
    return { ...base, encoding: 'base64' as const, data: body.data.toString('base64') };
  }
}

function flowQueryOf(sessionId: string, search: URLSearchParams): FlowQuery {
  const number = (name: string) => {
    const value = search.get(name);
    if (value === null || value === '') return undefined;
    if (!/^\d+$/.test(value)) throw new WarrenError('invalid-argument', `${name} must be a whole number`);
    return Number(value);
  };
  const decision = search.get('decision');
  if (decision !== null && decision !== 'allow' && decision !== 'deny') {
    throw new WarrenError('invalid-argument', 'decision must be allow or deny');
  }
  const host = search.get('host');
  const method = search.get('method');
  const status = number('status');
  const after = number('after');
  return {
    sessionId,
    ...(host ? { host } : {}),
    ...(method ? { method } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(after !== undefined ? { after } : {}),
    ...(decision ? { decision } : {}),
    limit: Math.min(number('limit') ?? 200, 1000),
    withBodies: search.get('bodies') === '1',
  };
}

/** Hosts this session was refused, most refused first: what "allow this host" offers. */
function refusedHosts(parts: ApiParts, sessionId: string) {
  const counts = new Map<string, { host: string; port: number; count: number; reason: string }>();
  for (const flow of parts.store.flows.query({ sessionId, decision: 'deny', limit: 5000 })) {
    const key = `${flow.host}:${flow.port}`;
    const entry = counts.get(key) ?? {
      host: flow.host,
      port: flow.port,
      count: 0,
      reason: flow.policy.reason,
    };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((left, right) => right.count - left.count);
}

export function flowRoutes(parts: ApiParts): ApiRoute[] {
  const rowOf = (id: string | undefined): SessionRow => sessionRowOf(parts, id);
  return [
    {
      method: 'GET',
      path: '/api/sessions/:id/flows',
      access: 'login',
      handle({ response, params, url }) {
        const row = rowOf(params.id);
        const query = flowQueryOf(row.id, url.searchParams);
        const flows = parts.store.flows.query(query);
        const described = flows.map((flow) =>
          query.withBodies
            ? {
                ...summarizeFlow(flow),
                request: { headers: flow.request.headers, body: describeBody(flow.request.body) },
                response: flow.response
                  ? { headers: flow.response.headers, body: describeBody(flow.response.body) }
                  : null,
              }
            : summarizeFlow(flow),
        );
        const last = flows.at(-1);
        sendJson(response, 200, {
          flows: described,
          next: last && flows.length === query.limit ? last.seq : null,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/flows/:flowId',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        const flow = parts.store.flows.get(params.flowId ?? '');
        if (!flow || flow.sessionId !== row.id)
          throw new WarrenError('not-found', `no flow ${params.flowId ?? ''}`);
        sendJson(response, 200, {
          flow: {
            ...summarizeFlow(flow),
            httpVersion: flow.httpVersion,
            timings: flow.timings,
            tlsDetails: flow.tls,
            request: { headers: flow.request.headers, body: describeBody(flow.request.body) },
            response: flow.response
              ? {
                  status: flow.response.status,
                  statusText: flow.response.statusText,
                  headers: flow.response.headers,
                  body: describeBody(flow.response.body),
                }
              : null,
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/usage',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        sendJson(response, 200, {
          available: parts.usageFor !== undefined,
          usage: parts.usageFor?.(row.id) ?? null,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/policy',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        sendJson(response, 200, {
          policy: row.details.policy ?? null,
          sessionAllow: row.details.allow ?? [],
          sessionDeny: row.details.deny ?? [],
          liveAllowed: row.details.liveAllowed ?? [],
          refused: refusedHosts(parts, row.id),
          canUpdateLive: parts.sessions.live(row.id)?.running === true,
        });
      },
    },
    {
      method: 'POST',
      path: '/api/sessions/:id/policy/allow',
      access: 'login',
      async handle({ request, response, params }) {
        const row = rowOf(params.id);
        const body = await readJson(request, z.object({ host: z.string().min(1).max(300) }).strict());
        const live = parts.sessions.live(row.id);
        if (!live?.running)
          throw new WarrenError('conflict', `session ${row.id} is not running in this server`);
        const current = parts.store.sessions.get(row.id);
        const details = current?.details ?? {};
        const listOf = (value: unknown) => (Array.isArray(value) ? (value as string[]) : []);
        const liveAllowed = [...listOf(details.liveAllowed), body.host];
        // Compiling checks the rule (a bad pattern is a 400) before anything changes.
        const policy = parts.policyFor({
          allow: [...listOf(details.allow), ...liveAllowed],
          deny: listOf(details.deny),
        });
        live.setPolicy(policy);
        parts.store.sessions.update(row.id, {
          details: { ...details, liveAllowed, policy: policy.explain() },
        });
        sendJson(response, 200, { liveAllowed });
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/har',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        const flows = parts.store.flows.query({ sessionId: row.id, withBodies: true, limit: 100_000 });
        sendDownload(
          response,
          `${row.id}.har`,
          'application/json',
          JSON.stringify(parts.flowsToHar(flows), null, 2),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/keylog',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        const path = parts.sessions.files(row.id).keylog;
        if (existsSync(path))
          sendFileDownload(response, `${row.id}.keylog.txt`, 'text/plain; charset=utf-8', path);
        else sendDownload(response, `${row.id}.keylog.txt`, 'text/plain; charset=utf-8', '');
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id/recording',
      access: 'login',
      handle({ response, params }) {
        const row = rowOf(params.id);
        const path = parts.sessions.files(row.id).recording;
        if (!existsSync(path))
          throw new WarrenError('not-found', `session ${row.id} has no terminal recording`);
        sendFileDownload(response, `${row.id}.cast`, 'application/x-asciicast', path);
      },
    },
  ];
}
