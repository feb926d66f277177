import { shellQuote } from './shell-quote.js';
import type { HostIdentity } from './host-identity.js';

/** Exit status when the host wrapper could not set the sandbox up (it never starts then). */
export const HOST_WRAPPER_FAILURE_STATUS = 125;

/** A host path mounted at a staging path, inside the wrapper's private mount namespace only. */
export interface StagedMount {
  source: string;
  /** An existing empty folder (for a folder) or file (for anything else) in a folder the identity can search. */
  target: string;
  /**
   * A device node bound read-only: nothing inside can chmod or chown the host's inode, whatever the mapping
   * (bwrap's own --remount-ro would also forbid using the device).
   */
  readOnlyDevice?: boolean;
}

/**
 * When Warren runs as root: the sandbox engine runs as this unprivileged host identity, never as root, so that
 * whatever the sandbox maps its user to is that identity. The engine can then no longer reach folders only root
 * may search (WARREN_HOME, a workspace under /root): the wrapper, still root, mounts what the engine needs in a
 * private mount namespace of its own, at staging paths the identity can reach.
 */
export interface IdentityDrop {
  identity: HostIdentity;
  mounts: StagedMount[];
  unsharePath: string;
  setprivPath: string;
  mountPath: string;
}

export interface HostWrapperOptions {
  bashPath: string;
  /** cgroup.procs files the wrapper writes its own pid to before anything else starts. */
  procsFiles?: string[];
  /** Files opened for reading on the given descriptors (3 to 9) for the command, e.g. a seccomp filter. */
  inputFiles?: { fd: number; path: string }[];
  drop?: IdentityDrop;
}

function failWith(message: string): string {
  return `{ echo ${shellQuote(`warren: ${message}`)} >&2; exit ${HOST_WRAPPER_FAILURE_STATUS}; }`;
}

function stagingLines(drop: IdentityDrop): string[] {
  const mount = shellQuote(drop.mountPath);
  const lines: string[] = [];
  for (const staged of drop.mounts) {
    const source = shellQuote(staged.source);
    const target = shellQuote(staged.target);
    const failure = failWith(`could not make ${staged.source} reachable for the sandbox`);
    lines.push(`${mount} --bind ${source} ${target} || ${failure}`);
    if (staged.readOnlyDevice) lines.push(`${mount} -o remount,bind,ro,nosuid ${target} || ${failure}`);
  }
  return lines;
}

/**
 * Wraps a sandbox engine's command in a bash process on the host that, before exec'ing the engine:
 * 1. closes every descriptor above 2 that it inherited: whatever the caller of Warren left open (a shell's
 *    `exec 200</root`, a server's sockets) must never reach the sandbox, where /proc/self/fd/N would reopen it;
 * 2. moves itself into the session's cgroups, so that everything the sandbox starts is inside them from the start;
 * 3. with `drop`, stages the mounts and becomes the unprivileged identity (setpriv), in a private mount namespace
 *    (unshare) that dies with the sandbox;
 * 4. opens `inputFiles` on their descriptors for the engine (node-pty cannot pass extra descriptors).
 * Any failure stops it with HOST_WRAPPER_FAILURE_STATUS before the engine starts.
 */
export function wrapForHost(
  command: { file: string; args: string[] },
  options: HostWrapperOptions,
): { file: string; args: string[] } {
  const inputFiles = options.inputFiles ?? [];
  for (const input of inputFiles)
    if (!Number.isInteger(input.fd) || input.fd < 3 || input.fd > 9)
      throw new RangeError(`fd ${input.fd} is not 3-9`);
  const lines = [
    'set -u',
    // The glob's own directory descriptor is closed again by the time the loop runs; closing it is a no-op.
    'for warren_fd in /proc/$$/fd/*; do',
    '  warren_fd=${warren_fd##*/}',
    '  if [ "$warren_fd" -gt 2 ]; then exec {warren_fd}>&-; fi',
    'done',
    ...(options.procsFiles ?? []).map(
      (file) => `echo $$ > ${shellQuote(file)} || ${failWith(`could not move the sandbox into ${file}`)}`,
    ),
  ];
  const redirections = inputFiles.map((input) => ` ${input.fd}<${shellQuote(input.path)}`).join('');
  const drop = options.drop;
  if (drop) {
    lines.push(...stagingLines(drop));
    const { uid, gid } = drop.identity;
    lines.push(
      `exec ${shellQuote(drop.setprivPath)} --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs -- "$@"${redirections}`,
    );
  } else lines.push(`exec "$@"${redirections}`);
  // --norc: bash reads ~/.bashrc even without a terminal when its stdin is a socket (Node's pipes are), taking
  // it for rshd's. -p (privileged mode): no BASH_ENV, no functions imported from whatever environment the plan
  // is spawned with, since this shell runs as root.
  const bash = [
    options.bashPath,
    '--noprofile',
    '--norc',
    '-p',
    '-c',
    lines.join('\n'),
    'warren-sandbox',
    command.file,
    ...command.args,
  ];
  if (!drop) return { file: bash[0]!, args: bash.slice(1) };
  // unshare without --fork unshares and execs bash in the same process: one pid from here to the engine.
  return { file: drop.unsharePath, args: ['--mount', '--propagation', 'private', '--', ...bash] };
}
