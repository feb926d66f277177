export { DEFAULT_PROXY_PORT, SANDBOX_PATHS, SANDBOX_USER } from './constants.js';
export type {
  DriverAvailability,
  LaunchPlan,
  LimitEnforcement,
  SandboxDriver,
  UnenforcedLimit,
} from './driver.js';
export { createBwrapDriver, type BwrapDriverOptions } from './drivers/bwrap/bwrap-driver.js';
export { buildBwrapArgs, type BwrapHostFacts } from './drivers/bwrap/args.js';
export {
  buildOciRunArgs,
  createOciDriver,
  DEFAULT_AGENT_IMAGE,
  type OciDriverOptions,
  type OciEngineName,
  type OciHostFacts,
  type OciSandboxDriver,
  type UserNamespaceMode,
} from './drivers/oci/index.js';
export {
  CACHE_DEFINITIONS,
  CACHE_KINDS,
  resolveCaches,
  type CacheDefinition,
  type CacheMount,
} from './caches.js';
export { clearCaches, listCaches, PROXY_DOWNLOAD_CACHE, type CacheUsage } from './caches-store.js';
export { buildSandboxEnvironment } from './environment.js';
export { buildBwrapGpuArgs, buildOciGpuPlan, type GpuHostFacts } from './gpu.js';
export {
  buildAgentImage,
  buildImageBuildArgs,
  defaultContainerfilePath,
  type ImageBuildRequest,
} from './image.js';
export { DRIVER_NAMES, resolveDriver, type DriverOptions } from './resolve.js';
export { runSandboxed, type SandboxRunResult, type SandboxStdio } from './run.js';
export {
  formatProtectedPathsReport,
  isProtectedPathsReport,
  ROOT_ENTRIES,
  type ProtectedPathChange,
  type ProtectedPathsReport,
  type ProtectedPathsSetting,
} from './protected-paths/index.js';
export {
  LIMIT_NAMES,
  normalizeSandboxSpec,
  type LimitName,
  type NormalizedSandboxSpec,
  type SandboxLimits,
  type SandboxMount,
  type SandboxSpec,
} from './spec.js';
export type { CgroupLocation } from './limits/cgroup-discovery.js';
export { defaultSandboxLimits, formatBytes } from './limits/defaults.js';
