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
        memory: sizeSchema.optional().describe('memory limit per session'),
        pids: z.number().int().positive().optional().describe('maximum number of processes per session'),
        cpuTime: z.number().int().positive().optional().describe('CPU seconds per session'),
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
        downloadCache: z
          .boolean()
          .default(true)
          .describe(
            'serve immutable registry downloads (npm tarballs, PyPI files, crates, Go modules) from WARREN_HOME/caches/proxy; requests with credentials are never cached',
          ),
      })
      .strict()
      .default({}),
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
