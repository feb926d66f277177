import { SANDBOX_PATHS } from '../constants.js';

/**
 * One bind a driver adds after the workspace (and the spec's mounts), in order. `source` is either a path in the
 * session's state folder or, with `inWorkspace`, a path relative to the workspace: the bwrap driver then reaches it
 * through its staged workspace (Warren as root), podman through the workspace itself. Every in-workspace source was
 * checked to be a real file or folder, with no link on its way from the workspace root.
 */
export interface ProtectionMount {
  source: string;
  inWorkspace: boolean;
  target: string;
  readonly: boolean;
}

/** Where the workspace's real git directory is shown inside, under the private view at /workspace/.git. */
export const HIDDEN_GIT_DIR = '/run/warren/git';

export function workspaceTarget(relative: string): string {
  return `${SANDBOX_PATHS.workspace}/${relative}`;
}

/** A read-only bind of a workspace path over itself: nothing inside can write, replace or remove it. */
export function readOnlyInPlace(relative: string, target = workspaceTarget(relative)): ProtectionMount {
  return { source: relative, inWorkspace: true, target, readonly: true };
}
