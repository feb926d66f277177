import { totalmem } from 'node:os';
import { resolve, sep } from 'node:path';
import { z } from 'zod';
import { WarrenError } from '../../errors/index.js';
import { CACHE_DEFINITIONS, CACHE_KINDS, isProtectedPathsReport } from '../../sandbox/index.js';
import {
  limitDefaults,
  resolvePreset,
  resolveSessionLimits,
  type WorkspaceSource,
} from '../../sessions/index.js';
import type { SessionRow } from '../../store/index.js';
import { readJson, sendJson } from '../http/respond.js';
import { sessionRowOf, type ApiParts, type ApiRoute } from './context.js';

const ruleList = z.array(z.string().min(1).max(300)).max(200).default([]);
const size = z
  .union([z.string().max(32), z.number().int().positive()])
  .optional()
  .describe('bytes, or a size like 512m or 4g');

const newSessionSchema = z
  .object({
    agent: z.string().min(1).max(50).describe('a preset name (GET /api/presets) or "custom"'),
    command: z
      .union([z.string().min(1).max(10_000), z.array(z.string().max(10_000)).min(1).max(200)])
      .optional()
      .describe('for "custom": a shell line (run by /bin/sh -c) or an argv'),
    model: z.string().max(200).optional(),
    workspace: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('empty') }),
        z.object({ kind: z.literal('copy'), path: z.string().min(1).max(4096) }),
        z.object({ kind: z.literal('clone'), url: z.string().min(1).max(4096) }),
        z.object({ kind: z.literal('in-place'), path: z.string().min(1).max(4096) }),
      ])
      .default({ kind: 'empty' }),
    allow: ruleList,
    deny: ruleList,
    limits: z
      .object({
        memory: size.describe("all the session's processes together"),
        pids: z.number().int().min(4).optional().describe('processes and threads of the session'),
        cpuSeconds: z.number().int().positive().optional().describe('CPU seconds per process'),
        tmpSize: size.describe('size of /tmp (tmpfs)'),
        homeSize: size.describe('size of HOME (tmpfs)'),
        shmSize: size.describe('size of /dev/shm (tmpfs)'),
      })
      .strict()
      .default({})
      .describe(
        "each absent limit: the configured one (sandbox.memory, …), else Warren's default (GET /api/presets)",
      ),
    gpu: z
      .boolean()
      .default(false)
      .describe("give the session the host's GPUs; refused when the host has none"),
    nestedContainers: z
      .boolean()
      .default(false)
      .describe('let the agent run podman inside its sandbox (bwrap driver; docs/containers.md)'),
    caches: z
      .array(
        z.string().refine((kind) => CACHE_KINDS.includes(kind), {
          message: `not a cache kind; known: ${CACHE_KINDS.join(', ')}`,
        }),
      )
      .max(CACHE_KINDS.length)
      .optional()
      .describe(
        'shared package caches; absent: the configured sandbox.caches; a list (even []) replaces them',
      ),
    cols: z.number().int().min(2).max(1000).default(100),
    rows: z.number().int().min(1).max(500).default(30),
  })
  .strict();

export type NewSessionBody = z.infer<typeof newSessionSchema>;

/** A session as the API shows it. */
export function describeSession(parts: ApiParts, row: SessionRow) {
  const live = parts.sessions.live(row.id);
  return {
    id: row.id,
    state: row.state,
    agent: row.kind,
    command: row.command,
    model: typeof row.details.model === 'string' ? row.details.model : null,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    exitCode: row.exitCode,
    workspace: row.workspace,
    driver: row.driver,
    flowCount: parts.store.flows.count(row.id),
    recording: parts.store.flows.recordingTotals(row.id),
    viewers: live?.host.viewerCount ?? 0,
    // A running row without a live terminal belongs to another process (e.g. `warren run`).
    attachable: live !== undefined,
    gpu: row.details.gpu === true,
    nestedContainers: row.details.nestedContainers === true,
    caches: Array.isArray(row.details.caches) ? row.details.caches : [],
    // How each limit is enforced, and the default limits this host could not enforce (prepareSession).
    limits: Array.isArray(row.details.limits) ? row.details.limits : [],
    unenforcedLimits: Array.isArray(row.details.unenforcedLimits) ? row.details.unenforcedLimits : [],
    // What the session did to files the host runs (docs/sandbox.md, "Protected paths"); null until it ends.
    protectedPaths: isProtectedPathsReport(row.details.protectedPaths) ? row.details.protectedPaths : null,
    error: typeof row.details.error === 'string' ? row.details.error : null,
    // "crashed": Warren stopped without ending the session (found at the next start); null otherwise.
    endReason: row.details.endReason === 'crashed' ? 'crashed' : null,
  };
}

function workspaceOf(parts: ApiParts, source: NewSessionBody['workspace']): WorkspaceSource {
  if (source.kind === 'copy' || source.kind === 'in-place') {
    const path = resolve(source.path);
    for (const root of parts.forbiddenWorkspaceRoots) {
      if (path === root || path.startsWith(root + sep) || root.startsWith(path + sep)) {
        throw new WarrenError('forbidden', `${path} holds Warren's own data and cannot be a workspace`);
      }
    }
    return { kind: source.kind, path };
  }
  return source;
}

function commandOf(parts: ApiParts, body: NewSessionBody) {
  if (body.agent === 'custom') {
    if (body.command === undefined) {
      throw new WarrenError('invalid-argument', 'a custom session needs a command');
    }
    return {
      command: typeof body.command === 'string' ? ['/bin/sh', '-c', body.command] : body.command,
      env: {},
      hosts: [],
    };
  }
  const preset = resolvePreset(parts.presets, body.agent, body.model);
  if (!preset) {
    throw new WarrenError('invalid-argument', `unknown agent "${body.agent}"`, {
      hint: `one of: ${[...parts.presets.map((candidate) => candidate.name), 'custom'].join(', ')}`,
    });
  }
  return preset;
}

export function sessionRoutes(parts: ApiParts): ApiRoute[] {
  const rowOf = (id: string | undefined): SessionRow => sessionRowOf(parts, id);
  return [
    {
      method: 'GET',
      path: '/api/presets',
      access: 'login',
      handle: ({ response }) =>
        sendJson(response, 200, {
          presets: parts.presets.map((preset) => ({
            name: preset.name,
            title: preset.title,
            command: preset.command,
          })),
          caches: CACHE_DEFINITIONS.map((definition) => ({
            kind: definition.kind,
            explain: definition.explain,
            default: (parts.defaultCaches ?? []).includes(definition.kind),
          })),
          models: parts.models?.() ?? [],
          limits: limitDefaults(parts.configuredLimits, totalmem()),
        }),
    },
    {
      method: 'GET',
      path: '/api/sessions',
      access: 'login',
      handle({ response, url }) {
        const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), 1000);
        const rows = parts.store.sessions.list({ limit });
        sendJson(response, 200, { sessions: rows.map((row) => describeSession(parts, row)) });
      },
    },
    {
      method: 'POST',
      path: '/api/sessions',
      access: 'login',
      async handle({ request, response }) {
        const body = await readJson(request, newSessionSchema);
        const { command, env, hosts } = commandOf(parts, body);
        const workspace = workspaceOf(parts, body.workspace);
        const allow = [...hosts, ...body.allow];
        const policy = parts.policyFor({ allow, deny: body.deny });
        const limits = resolveSessionLimits(parts.configuredLimits, body.limits);
        const caches = [...new Set(body.caches ?? parts.defaultCaches ?? [])];
        const row = await parts.sessions.create({
          agent: body.agent,
          command,
          env,
          policy,
          workspace,
          limits,
          gpu: body.gpu,
          nestedContainers: body.nestedContainers,
          caches,
          cols: body.cols,
          rows: body.rows,
          details: {
            model: body.model ?? null,
            allow,
            deny: body.deny,
            gpu: body.gpu,
            nestedContainers: body.nestedContainers,
            caches,
          },
        });
        sendJson(response, 201, { session: describeSession(parts, row) });
      },
    },
    {
      method: 'GET',
      path: '/api/sessions/:id',
      access: 'login',
      handle: ({ response, params }) =>
        sendJson(response, 200, { session: describeSession(parts, rowOf(params.id)) }),
    },
    {
      method: 'POST',
      path: '/api/sessions/:id/stop',
      access: 'login',
      async handle({ response, params }) {
        const row = rowOf(params.id);
        if (!parts.sessions.live(row.id)?.running) {
          throw new WarrenError('conflict', `session ${row.id} is not running in this server`);
        }
        await parts.sessions.stop(row.id);
        sendJson(response, 200, { session: describeSession(parts, rowOf(row.id)) });
      },
    },
    {
      method: 'DELETE',
      path: '/api/sessions/:id',
      access: 'login',
      async handle({ response, params }) {
        const row = rowOf(params.id);
        if (row.state === 'running' && !parts.sessions.live(row.id)) {
          throw new WarrenError('conflict', `session ${row.id} is running in another process`, {
            hint: 'end it there first',
          });
        }
        await parts.sessions.remove(row.id);
        sendJson(response, 200, { ok: true });
      },
    },
  ];
}
