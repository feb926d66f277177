import { z } from 'zod';

/** A host rule as written in warren.yaml: a bare pattern, or a pattern with the reason shown when it decides. */
const ruleSchema = z.union([
  z.string().min(1).describe('host, *.domain, IP or CIDR, with optional :port'),
  z
    .object({
      rule: z.string().min(1).describe('host, *.domain, IP or CIDR, with optional :port'),
      reason: z.string().optional().describe('why this rule exists; shown in the UI, logs and refusals'),
    })
    .strict(),
]);

export type RuleEntry = z.infer<typeof ruleSchema>;

const sizeSchema = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(\.\d+)?\s*[kmgt]?i?b?$/i, 'a size like 512m or 4g'),
  ])
  .describe('bytes, or a size like 512m, 4g');

/** A path inside the workspace, as protected-path settings name one. */
const workspacePathSchema = z
  .string()
  .min(1)
  .refine(
    (path) => !path.startsWith('/') && !path.split('/').some((part) => ['', '.', '..'].includes(part)),
    'a path relative to the workspace, such as tools/hooks (no leading "/", no "." or "..")',
  );

/** A secret the agent uses but cannot read (src/proxy/secrets*.ts): a placeholder inside, the value swapped in by the proxy. */
const secretSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name')
      .describe(
        'variable that holds the placeholder inside the sandbox; presets: GITHUB_TOKEN, GH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, NPM_TOKEN, TWINE_PASSWORD, UV_PUBLISH_TOKEN',
      ),
    env: z
      .string()
      .optional()
      .describe("variable of Warren's own environment holding the value (default: name)"),
    file: z.string().optional().describe('host file holding the value instead (one line)'),
    hosts: z
      .array(z.string().min(1))
      .optional()
      .describe('hosts the value may be sent to (host or *.domain, optional :port); default from the preset'),
    how: z
      .enum(['header', 'basic'])
      .optional()
      .describe(
        'header: swapped in request headers; basic: also inside Basic credentials, with a git credential helper',
      ),
    username: z.string().optional().describe('basic: the user name sent with the token'),
  })
  .strict()
  .refine((secret) => secret.env === undefined || secret.file === undefined, 'give env or file, not both');

/** An agent preset (`agents.NAME`): what `agent: NAME` runs when a session is created in `warren serve`. */
const agentPresetSchema = z
  .object({
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe('argv run inside the sandbox, e.g. ["aider", "--yes"]; a program found on the sandbox PATH'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name'), z.string())
      .default({})
      .describe('variables set for the agent; secrets belong in `secrets`, not here'),
    hosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'host rules the agent needs (host, *.domain, IP or CIDR, optional :port), allowed for its sessions on top of policy.allow; empty: none extra',
      ),
    description: z
      .string()
      .max(200)
      .optional()
      .describe('the title shown in the web app (default: the name)'),
    modelVariable: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name')
      .optional()
      .describe('variable that receives the model chosen for a session, when the agent reads one'),
  })
  .strict();

export const warrenConfigSchema = z
  .object({
    policy: z
      .object({
        allow: z
          .array(ruleSchema)
          .default([])
          .describe('hosts a session may reach; empty means none (everything is denied by default)'),
        deny: z.array(ruleSchema).default([]).describe('hosts always refused; deny wins over allow'),
      })
      .strict()
      .default({})
      .describe('egress host policy applied to every session, before per-session --allow/--deny'),
    sandbox: z
      .object({
        driver: z.string().default('bwrap').describe('sandbox driver: bwrap, podman or docker'),
        image: z
          .string()
          .optional()
          .describe('container image for the podman/docker drivers (default localhost/warren-agent:latest)'),
        caches: z
          .array(z.string())
          .default([])
          .describe(
            'shared package caches mounted into every session: npm, pip, cargo, go, gradle, apt; empty: none',
          ),
        memory: sizeSchema
          .optional()
          .describe(
            "memory of all a session's processes together, enforced (or the session fails); absent: Warren's default, half the host's RAM up to 16 GiB, enforced where the host allows",
          ),
        pids: z
          .number()
          .int()
          .min(4)
          .optional()
          .describe(
            "processes and threads per session, enforced (or the session fails); absent: Warren's default, 4096, enforced where the host allows",
          ),
        cpuTime: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('CPU seconds per process of a session; absent: no limit'),
        tmpSize: sizeSchema
          .optional()
          .describe("size of a session's /tmp (tmpfs); absent: a quarter of the host's RAM up to 4 GiB"),
        homeSize: sizeSchema
          .optional()
          .describe("size of a session's HOME (tmpfs); absent: a quarter of the host's RAM up to 4 GiB"),
        shmSize: sizeSchema
          .optional()
          .describe(
            "size of a session's /dev/shm (tmpfs); absent: a sixteenth of the host's RAM up to 1 GiB",
          ),
        protectedPaths: z
          .union([
            z.boolean(),
            z
              .object({
                add: z.array(workspacePathSchema).default([]),
                remove: z.array(workspacePathSchema).default([]),
              })
              .strict(),
          ])
          .optional()
          .describe(
            'files in the workspace the host runs on ordinary actions (.git config and hooks, .envrc, .bashrc, .mcp.json, .vscode/, …): read-only or private inside, checked and neutralised when the session ends (docs/sandbox.md, "Protected paths"). Absent or true: the built-in list; false: none (the opt-out); { add, remove }: the list with workspace-relative paths added or removed ("remove: [.git]" turns the git protection off)',
          ),
      })
      .strict()
      .default({}),
    proxy: z
      .object({
        bodyCapBytes: z
          .number()
          .int()
          .nonnegative()
          .default(1024 * 1024)
          .describe('bodies are recorded up to this many bytes; the full size is kept'),
        headerCapBytes: z
          .number()
          .int()
          .nonnegative()
          .default(16 * 1024)
          .describe('header bytes (request and response together) recorded per flow; the rest is counted'),
        recordingBudgetBytes: z
          .number()
          .int()
          .nonnegative()
          .default(256 * 1024 * 1024)
          .describe(
            'header and body bytes one session may record; past it, flows keep their metadata only and count what they left out; 0: metadata only',
          ),
        downloadCache: z
          .boolean()
          .default(true)
          .describe(
            'serve immutable registry downloads (npm tarballs, PyPI files, crates, Go modules) from WARREN_HOME/caches/proxy; requests with credentials are never cached',
          ),
      })
      .strict()
      .default({}),
    serve: z
      .object({
        hosts: z
          .array(
            z
              .string()
              .regex(
                /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?)$/,
                'a host name or IP address, without scheme or port (e.g. machine.tailnet.ts.net)',
              ),
          )
          .default([])
          .describe(
            'names `warren serve` answers to besides loopback and the bound address, e.g. the `tailscale serve` name; any other Host is answered 421. Empty: loopback and the bound address only',
          ),
      })
      .strict()
      .default({})
      .describe('the web app (`warren serve`)'),
    agents: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,49}$/, 'a lowercase name like aider'),
        agentPresetSchema,
      )
      .default({})
      .describe(
        'agent presets for `warren serve`, by name; a name that matches a built-in preset (shell, claude, codex, opencode) replaces it; empty: the built-ins only',
      )
      .refine((agents) => !('custom' in agents), '"custom" is reserved for custom commands'),
    secrets: z
      .array(secretSchema)
      .default([])
      .describe('secrets sessions may use without reading them; empty: none'),
    // LiteLLM's config keys, read as is by the model gateway.
    model_list: z.array(z.unknown()).optional().describe("LiteLLM's model_list, read by the model gateway"),
    general_settings: z.record(z.unknown()).optional(),
    litellm_settings: z.record(z.unknown()).optional(),
    router_settings: z.record(z.unknown()).optional(),
    environment_variables: z.record(z.unknown()).optional(),
  })
  .strict();

export type WarrenConfig = z.infer<typeof warrenConfigSchema>;
