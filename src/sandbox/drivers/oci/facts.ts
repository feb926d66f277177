import type { ProtectionMount } from '../../protected-paths/index.js';

/** The two engines share one driver; they differ in a few flags, listed where they are used. */
export type OciEngineName = 'podman' | 'docker';

/**
 * How the sandbox user (uid/gid 1000 inside) relates to host users.
 * - `private`: rootful podman. The container's uids 0-65535 map to host uids BASE..BASE+65535, so neither the
 *   container's root nor its uid 1000 is a host user; the workspace (and the proxy socket) are chowned to
 *   BASE+1000 with podman's `U` volume option so that the agent can write there.
 * - `keep-id`: rootless podman. The host user running Warren appears as uid 1000 inside, as with bwrap; files
 *   in the workspace stay owned by that user.
 * - `host`: no user namespace (docker's default, or the daemon's `userns-remap`). uid 1000 inside is host
 *   uid 1000: the workspace must be writable by it, and that uid should belong to no real host user.
 */
export type UserNamespaceMode = 'private' | 'keep-id' | 'host';

/** What the argument builder needs to know about the host and engine; detected once per driver. */
export interface OciHostFacts {
  engine: OciEngineName;
  /** The engine runs without root (rootless podman): uid maps come from /etc/subuid. */
  rootless: boolean;
  /** `--runtime` value when the engine's default runtime cannot work here (crun on cgroup v1/hybrid). */
  runtime: string | undefined;
  /** Hard limits the engine may hand to the container: its defaults can exceed the host's and then fail. */
  openFilesLimit: number;
  processLimit: number;
  /** An init binary exists for `--init`, so the command is not pid 1 (pid 1 ignores signals it has no handler for). */
  init: boolean;
  cgroupVersion: 1 | 2;
  /**
   * cgroup controllers the engine can use for its containers (podman info): all of them for rootful podman, only
   * the delegated ones for rootless podman on cgroup v2, none for rootless podman on cgroup v1.
   */
  cgroupControllers: string[];
}

/** Per-driver choices that are not host facts. */
export interface OciRunSettings {
  image: string;
  containerName: string;
  /** Value of the `warren.instance` label: the reconciler removes only this instance's leftovers. */
  instance: string;
  userNamespace: UserNamespaceMode;
  /** First host uid/gid of the `private` map (65536 ids). */
  uidMapBase: number;
  /** Host folder holding this session's generated /etc/hosts. */
  stateDir: string;
  /** The workspace was lent to the agent's host uid for the session (rootful podman): no `U` on its volume. */
  workspaceLent?: boolean;
  /** Warren's seccomp profile (seccomp-profile.ts), written to the state folder; absent: the engine's default. */
  seccompProfilePath?: string;
  /** socat inside the image. */
  socatPath: string;
  /** Engine arguments that give the GPU (`--device …`, driver library volumes), from gpu.ts; [] without spec.gpu. */
  gpuArgs: string[];
  /** Shared package caches (host folder → path inside), from caches.ts; [] without spec.caches. */
  cacheMounts: { kind: string; source: string; target: string }[];
  /** Binds that protect the workspace's protected paths (src/sandbox/protected-paths), after all other mounts. */
  protectionMounts?: ProtectionMount[];
}

export const SESSION_LABEL = 'warren.session';
export const INSTANCE_LABEL = 'warren.instance';

/** Default first host id of the `private` map: far above login users and the usual /etc/subuid ranges. */
export const DEFAULT_UID_MAP_BASE = 2_000_000_000;
