/**
 * What `agent: NAME` means when a session is created: data, not code, so that config can add or
 * override presets. `hosts` are allowed for the session on top of the configured rules, because the
 * agent cannot work without them.
 */
export interface AgentPreset {
  name: string;
  title: string;
  command: string[];
  env: Record<string, string>;
  hosts: string[];
  /** The environment variable that carries the chosen model, when the agent reads one. */
  modelVariable?: string;
}

export const defaultAgentPresets: AgentPreset[] = [
  { name: 'shell', title: 'Shell', command: ['/bin/bash', '-l'], env: {}, hosts: [] },
  {
    name: 'claude',
    title: 'Claude Code',
    command: ['claude', '--dangerously-skip-permissions'],
    env: { DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1' },
    hosts: [],
    modelVariable: 'ANTHROPIC_MODEL',
  },
  { name: 'codex', title: 'Codex', command: ['codex'], env: {}, hosts: [], modelVariable: 'OPENAI_MODEL' },
  { name: 'opencode', title: 'opencode', command: ['opencode'], env: {}, hosts: ['models.dev'] },
];

/** The preset's command and environment for one session (model applied), or undefined for an unknown name. */
export function resolvePreset(
  presets: readonly AgentPreset[],
  name: string,
  model: string | undefined,
): { command: string[]; env: Record<string, string>; hosts: string[] } | undefined {
  const preset = presets.find((candidate) => candidate.name === name);
  if (!preset) return undefined;
  const env = { ...preset.env };
  if (model && preset.modelVariable) env[preset.modelVariable] = model;
  return { command: [...preset.command], env, hosts: [...preset.hosts] };
}

/** A preset as `agents.NAME` in warren.yaml gives it (src/config/schema.ts). */
export interface ConfiguredAgent {
  command: string[];
  env?: Record<string, string>;
  hosts?: string[];
  description?: string;
  modelVariable?: string;
}

/**
 * The built-in presets with the configured ones laid over them: a configured name replaces the built-in
 * of that name as a whole (nothing is inherited, so what the file says is what runs); new names follow the
 * built-ins in the order the file lists them.
 */
export function mergeAgentPresets(
  defaults: readonly AgentPreset[],
  configured: Readonly<Record<string, ConfiguredAgent>>,
): AgentPreset[] {
  const fromConfig = (name: string, agent: ConfiguredAgent): AgentPreset => ({
    name,
    title: agent.description ?? name,
    command: [...agent.command],
    env: { ...agent.env },
    hosts: [...(agent.hosts ?? [])],
    ...(agent.modelVariable ? { modelVariable: agent.modelVariable } : {}),
  });
  const merged = defaults.map((preset) => {
    const agent = configured[preset.name];
    return agent ? fromConfig(preset.name, agent) : preset;
  });
  const builtIn = new Set(defaults.map((preset) => preset.name));
  for (const [name, agent] of Object.entries(configured)) {
    if (!builtIn.has(name)) merged.push(fromConfig(name, agent));
  }
  return merged;
}
