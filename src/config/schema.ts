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
        driver: z.string().default('bwrap').describe('sandbox driver: bwrap'),
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
      })
      .strict()
      .default({}),
    // LiteLLM's config keys, read as is by the model gateway.
    model_list: z.array(z.unknown()).optional().describe("LiteLLM's model_list, read by the model gateway"),
    general_settings: z.record(z.unknown()).optional(),
    litellm_settings: z.record(z.unknown()).optional(),
    router_settings: z.record(z.unknown()).optional(),
    environment_variables: z.record(z.unknown()).optional(),
  })
  .strict();

export type WarrenConfig = z.infer<typeof warrenConfigSchema>;
