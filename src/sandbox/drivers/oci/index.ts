export { buildOciRunArgs } from './args.js';
export {
  DEFAULT_UID_MAP_BASE,
  INSTANCE_LABEL,
  SESSION_LABEL,
  type OciEngineName,
  type OciHostFacts,
  type OciRunSettings,
  type UserNamespaceMode,
} from './facts.js';
export {
  createOciDriver,
  DEFAULT_AGENT_IMAGE,
  type OciDriverOptions,
  type OciSandboxDriver,
} from './oci-driver.js';
