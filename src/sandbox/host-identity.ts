/** A host uid and gid. */
export interface HostIdentity {
  uid: number;
  gid: number;
}

/**
 * The host identity a sandbox runs as when Warren runs as root: the agent is never host uid 0, which the kernel
 * would treat as root for everything namespaces do not cover (global sysctls, host device inodes, setuid files,
 * RLIMIT_NPROC). It is the uid rootful podman gives the agent (its private range 2000000000 + uid 1000), so both
 * drivers put the agent under one unprivileged identity that belongs to no account.
 */
export const ROOT_SANDBOX_IDENTITY: HostIdentity = { uid: 2000001000, gid: 2000001000 };

/**
 * Who the sandbox runs as on the host: undefined when Warren is an unprivileged user (the sandbox maps its user to
 * that user, which owns the workspace already), else the configured or default unprivileged identity.
 */
export function sandboxHostIdentity(configured?: HostIdentity): HostIdentity | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const identity = configured ?? ROOT_SANDBOX_IDENTITY;
  if (identity.uid === 0 || identity.gid === 0)
    throw new RangeError('the sandbox host identity must not be uid or gid 0');
  return identity;
}
