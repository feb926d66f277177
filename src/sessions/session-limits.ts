import { parseSize, type WarrenConfig } from '../config/index.js';
import {
  defaultSandboxLimits,
  formatBytes,
  LIMIT_NAMES,
  type LimitName,
  type SandboxLimits,
  type UnenforcedLimit,
} from '../sandbox/index.js';

/**
 * Limits as a person writes them (sizes as "4g" or bytes): the fields of `warren run`'s flags, the API's
 * `limits` and warren.yaml's `sandbox` section alike. Absent: not set here.
 */
export interface LimitSettings {
  memory?: string | number;
  pids?: number;
  cpuSeconds?: number;
  cpus?: number;
  tmpSize?: string | number;
  homeSize?: string | number;
  shmSize?: string | number;
}

/** warren.yaml's `sandbox` section as LimitSettings. */
export function limitSettingsOfConfig(sandbox: WarrenConfig['sandbox']): LimitSettings {
  const { memory, pids, cpuTime, tmpSize, homeSize, shmSize } = sandbox;
  return { memory, pids, cpuSeconds: cpuTime, tmpSize, homeSize, shmSize };
}

function sandboxLimitsOf(settings: LimitSettings): SandboxLimits {
  const size = (value: string | number | undefined) => (value === undefined ? undefined : parseSize(value));
  const limits: SandboxLimits = {
    memoryBytes: size(settings.memory),
    pids: settings.pids,
    cpuSeconds: settings.cpuSeconds,
    cpus: settings.cpus,
    tmpBytes: size(settings.tmpSize),
    homeBytes: size(settings.homeSize),
    shmBytes: size(settings.shmSize),
  };
  for (const name of LIMIT_NAMES) if (limits[name] === undefined) delete limits[name];
  return limits;
}

/**
 * The limits a session sets, each from the request, else from the config: enforced, or the session fails. What
 * neither sets gets Warren's defaults from prepareSession (`defaultSandboxLimits`), enforced where the host allows.
 * The one place `warren run`, the API and `warren serve` assemble limits.
 */
export function resolveSessionLimits(
  configured: LimitSettings,
  requested: LimitSettings = {},
): SandboxLimits {
  return { ...sandboxLimitsOf(configured), ...sandboxLimitsOf(requested) };
}

/** One limit a session gets when its request sets none, and where the value comes from. */
export interface LimitDefault {
  limit: LimitName;
  value: number;
  /** `config`: warren.yaml sets it (enforced or the session fails); `warren`: the built-in default (best effort). */
  source: 'config' | 'warren';
}

/** What a session that asks for nothing gets: for `warren run --help`, GET /api/presets and the web form. */
export function limitDefaults(configured: LimitSettings, hostMemoryBytes: number): LimitDefault[] {
  const fromConfig = sandboxLimitsOf(configured);
  const builtIn = defaultSandboxLimits(hostMemoryBytes);
  return LIMIT_NAMES.flatMap((limit): LimitDefault[] => {
    const configuredValue = fromConfig[limit];
    if (configuredValue !== undefined) return [{ limit, value: configuredValue, source: 'config' }];
    const builtInValue = builtIn[limit];
    return builtInValue === undefined ? [] : [{ limit, value: builtInValue, source: 'warren' }];
  });
}

/** "memory 12 GiB", "pids 4096", "cpus 1.5". */
export function describeLimitValue(limit: LimitName, value: number): string {
  const label: Record<LimitName, string> = {
    memoryBytes: 'memory',
    pids: 'pids',
    cpuSeconds: 'cpu-time',
    cpus: 'cpus',
    tmpBytes: '/tmp',
    homeBytes: 'HOME',
    shmBytes: '/dev/shm',
  };
  const shown = limit.endsWith('Bytes') ? formatBytes(value) : String(value);
  return `${label[limit]} ${shown}`;
}

/** The one-line notice `warren run` prints when default limits could not be enforced on this host. */
export function unenforcedNotice(unenforced: UnenforcedLimit[]): string | undefined {
  if (unenforced.length === 0) return undefined;
  const parts = unenforced.map(
    (entry) => `${describeLimitValue(entry.limit, entry.value)} (${entry.reason})`,
  );
  return `warren: default limits not enforced on this host: ${parts.join(', ')}; see "Default limits" in docs/sandbox.md`;
}
