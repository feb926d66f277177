import { posix } from 'node:path';
import { WarrenError } from '../../../errors/index.js';
import { SANDBOX_PATHS, SANDBOX_USER } from '../../constants.js';
import { environmentOfNormalizedSpec } from '../../environment.js';
import { shellQuote } from '../../shell-quote.js';
import type { NormalizedSandboxSpec } from '../../spec.js';
import { buildLauncherScript, LAUNCHER_FAILURE_STATUS } from '../bwrap/launcher.js';
import { INSTANCE_LABEL, SESSION_LABEL, type OciHostFacts, type OciRunSettings } from './facts.js';

/** Where the launcher script is mounted: a file, so /proc/1/cmdline stays one readable line. */
export const LAUNCHER_PATH = '/run/warren/launcher.sh';

/** Variables the engine sets on its own (podman keeps HOSTNAME even with --unsetenv-all; docker sets both). */
const ENGINE_VARIABLES = ['HOSTNAME', 'container'];

/** `-v` splits on ":", so a path holding one would be read as another mount: refused, never guessed. */
function volume(source: string, target: string, options: string[]): string {
  for (const path of [source, target])
    if (path.includes(':'))
      throw new WarrenError(
        'invalid-argument',
        `The path ${path} contains ":", which container engines cannot mount`,
        {
          hint: 'Rename the folder or mount its parent instead.',
        },
      );
  return `${source}:${target}:${options.join(',')}`;
}

function userNamespaceArgs(facts: OciHostFacts, settings: OciRunSettings): string[] {
  const mode = settings.userNamespace;
  if (facts.engine === 'docker' && mode !== 'host')
    throw new WarrenError(
      'invalid-argument',
      `docker cannot use the "${mode}" user namespace per container`,
      {
        hint: 'Use userNamespace "host" with docker (and the daemon\'s userns-remap), or use podman.',
      },
    );
  if (mode === 'host') return ['--userns', 'host'];
  if (mode === 'keep-id') {
    if (!facts.rootless)
      throw new WarrenError('invalid-argument', 'userNamespace "keep-id" needs rootless podman', {
        hint: 'Run Warren as a normal user, or use userNamespace "private" with rootful podman.',
      });
    return ['--userns', `keep-id:uid=${SANDBOX_USER.uid},gid=${SANDBOX_USER.gid}`];
  }
  const map = `0:${settings.uidMapBase}:65536`;
  return ['--uidmap', map, '--gidmap', map];
}

/**
 * Where a cache folder is mounted. Targets inside HOME (cargo's registry, gradle's caches) are mounted outside it
 * and linked from HOME by the launcher: the engine would create their parent folders in the HOME tmpfs as the
 * container's root, leaving ~/.cargo unwritable for the agent.
 */
export function cacheMountPoint(target: string): string {
  const home = `${SANDBOX_PATHS.home}/`;
  return target.startsWith(home) ? `/var/cache/warren/home/${target.slice(home.length)}` : target;
}

function cacheLinkLines(settings: OciRunSettings): string[] {
  return settings.cacheMounts
    .filter((cache) => cacheMountPoint(cache.target) !== cache.target)
    .map(
      (cache) =>
        `mkdir -p ${shellQuote(posix.dirname(cache.target))} && ln -sfn ${shellQuote(cacheMountPoint(cache.target))} ${shellQuote(cache.target)}`,
    );
}

/** Podman's `U` chowns a volume to the container user; needed only where uid 1000 is not the folder's owner. */
function ownedByAgent(facts: OciHostFacts, settings: OciRunSettings): string[] {
  return facts.engine === 'podman' && settings.userNamespace === 'private' ? ['U'] : [];
}

function filesystemArgs(
  spec: NormalizedSandboxSpec,
  facts: OciHostFacts,
  settings: OciRunSettings,
): string[] {
  const owned = ownedByAgent(facts, settings);
  const args = ['--read-only'];
  if (facts.engine === 'podman') args.push('--read-only-tmpfs=false');
  const { tmpBytes, homeBytes, shmBytes } = spec.limits;
  // Unsized, the kernel gives a tmpfs half the host's RAM.
  const size = (bytes: number | undefined) => (bytes === undefined ? '' : `,size=${bytes}`);
  // runc gives a tmpfs the mode of the image folder it covers; the launcher fixes HOME, the image's /tmp is 1777.
  args.push('--tmpfs', `${SANDBOX_PATHS.tmp}:rw,nosuid,nodev,mode=1777${size(tmpBytes)}`);
  const home =
    facts.engine === 'podman'
      ? 'rw,nosuid,nodev,mode=0700,U'
      : `rw,nosuid,nodev,mode=0700,uid=${SANDBOX_USER.uid},gid=${SANDBOX_USER.gid}`;
  args.push('--tmpfs', `${SANDBOX_PATHS.home}:${home}${size(homeBytes)}`);
  // The engines' own default /dev/shm is 64 MiB (with --ipc private).
  if (shmBytes !== undefined) args.push('--shm-size', String(shmBytes));
  args.push('--volume', volume(`${settings.stateDir}/hosts`, '/etc/hosts', ['ro']));
  args.push('--volume', volume(`${settings.stateDir}/launcher.sh`, LAUNCHER_PATH, ['ro']));
  if (spec.caBundlePath) args.push('--volume', volume(spec.caBundlePath, SANDBOX_PATHS.caBundle, ['ro']));
  if (spec.proxy)
    args.push('--volume', volume(spec.proxy.socketPath, SANDBOX_PATHS.proxySocket, ['rw', ...owned]));
  // A lent workspace (workspace-handover.ts) is the agent's already, and is handed back when the session ends;
  // `U` would chown it for good.
  const workspaceOwned = settings.workspaceLent ? [] : owned;
  args.push('--volume', volume(spec.workspace, SANDBOX_PATHS.workspace, ['rw', ...workspaceOwned]));
  for (const cache of settings.cacheMounts)
    args.push('--volume', volume(cache.source, cacheMountPoint(cache.target), ['rw', ...owned]));
  for (const mount of spec.mounts)
    args.push('--volume', volume(mount.source, mount.target, [mount.readonly ? 'ro' : 'rw']));
  for (const mount of settings.protectionMounts ?? [])
    args.push(
      '--volume',
      volume(mount.inWorkspace ? posix.join(spec.workspace, mount.source) : mount.source, mount.target, [
        mount.readonly ? 'ro' : 'rw',
      ]),
    );
  return args;
}

function limitArgs(spec: NormalizedSandboxSpec, facts: OciHostFacts): string[] {
  const args = [
    '--ulimit',
    `nofile=${facts.openFilesLimit}:${facts.openFilesLimit}`,
    '--ulimit',
    `nproc=${facts.processLimit}:${facts.processLimit}`,
  ];
  const { memoryBytes, pids } = spec.limits;
  // Swap equal to memory means no swap at all: the limit cannot be dodged by paging out.
  if (memoryBytes !== undefined)
    args.push('--memory', String(memoryBytes), '--memory-swap', String(memoryBytes));
  if (pids !== undefined) args.push('--pids-limit', String(pids));
  if (spec.limits.cpus !== undefined) args.push('--cpus', String(spec.limits.cpus));
  return args;
}

/**
 * sh lines that unset every variable not in `keep`: docker has no --unsetenv-all, so the image's ENV would
 * otherwise reach the command. awk lists the names (ENVIRON), as sh has no portable way to.
 */
export function dropOtherVariablesLines(keep: ReadonlySet<string>): string[] {
  const names = [...keep].filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
  return [
    `for warren_name in $(awk 'BEGIN { for (name in ENVIRON) print name }' 2>/dev/null); do`,
    `  case "$warren_name" in ${names.join('|')}) ;; *) unset "$warren_name" 2>/dev/null ;; esac`,
    'done',
    'unset warren_name',
  ];
}

/**
 * The sh script run inside: drops the engine's (and on docker the image's) own variables, gives HOME its mode,
 * links caches, checks the image has socat, then the shared launcher (proxy bridge, CPU rlimit, exec).
 */
export function buildOciLauncher(
  spec: NormalizedSandboxSpec,
  settings: OciRunSettings,
  keep: Set<string>,
  engine: OciHostFacts['engine'] = 'podman',
): string {
  const lines: string[] = [];
  const drop = ENGINE_VARIABLES.filter((name) => !keep.has(name));
  if (drop.length > 0) lines.push(`unset ${drop.join(' ')}`);
  if (engine === 'docker') lines.push(...dropOtherVariablesLines(keep));
  lines.push(`chmod 0700 ${SANDBOX_PATHS.home} 2>/dev/null`);
  lines.push(...cacheLinkLines(settings));
  if (spec.proxy)
    lines.push(
      `[ -x ${shellQuote(settings.socatPath)} ] || { echo ${shellQuote(
        `warren: the image ${settings.image} has no ${settings.socatPath}; the proxy bridge needs socat (apt-get install socat in the image)`,
      )} >&2; exit ${LAUNCHER_FAILURE_STATUS}; }`,
    );
  lines.push(
    buildLauncherScript({
      proxy: spec.proxy ? { port: spec.proxy.port, socatPath: settings.socatPath } : undefined,
      cpuSeconds: spec.limits.cpuSeconds,
    }),
  );
  return lines.join('\n');
}

/**
 * The full `podman run` / `docker run` argv (without the engine path) for one session, and the launcher script
 * the caller writes to `<stateDir>/launcher.sh`. Pure: the same spec, facts and settings give the same result.
 * The environment inside is the contract plus `extraEnvironment` (cache variables), nothing from the host or the
 * image.
 */
export function buildOciRunArgs(
  spec: NormalizedSandboxSpec,
  facts: OciHostFacts,
  settings: OciRunSettings,
  extraEnvironment: Record<string, string> = {},
): { args: string[]; launcher: string } {
  const podman = facts.engine === 'podman';
  const args = ['run', '--rm', '--interactive'];
  if (spec.tty) args.push('--tty');
  args.push('--name', settings.containerName);
  args.push(
    '--label',
    `${SESSION_LABEL}=${spec.sessionId}`,
    '--label',
    `${INSTANCE_LABEL}=${settings.instance}`,
  );
  // Never reach a registry at session start: an image that is not there fails, it is not fetched.
  args.push('--pull', 'never');
  // The engine would otherwise keep a copy of everything the agent prints. Not podman's "passthrough": it hands
  // our pipes to the container, which then outlives a killed client and keeps them open.
  args.push('--log-driver', 'none');
  if (facts.runtime) args.push('--runtime', facts.runtime);
  if (facts.init) args.push('--init');
  args.push('--network', 'none', '--ipc', 'private', '--cgroupns', 'private');
  args.push('--cap-drop', 'ALL', '--security-opt', 'no-new-privileges');
  // The bwrap driver's system call policy on the engine's default profile (seccomp-profile.ts).
  if (settings.seccompProfilePath) args.push('--security-opt', `seccomp=${settings.seccompProfilePath}`);
  args.push('--hostname', spec.hostname);
  if (podman) args.push('--no-hosts', '--systemd', 'false');
  args.push('--user', `${SANDBOX_USER.uid}:${SANDBOX_USER.gid}`, ...userNamespaceArgs(facts, settings));
  args.push(...limitArgs(spec, facts));
  args.push(...filesystemArgs(spec, facts, settings));
  args.push(...settings.gpuArgs);
  args.push('--workdir', SANDBOX_PATHS.workspace);

  const environment = { ...extraEnvironment, ...environmentOfNormalizedSpec(spec) };
  // podman drops the image's and its own defaults; docker has no such flag, so the launcher unsets them.
  if (podman) args.push('--unsetenv-all');
  for (const [name, value] of Object.entries(environment)) args.push('--env', `${name}=${value}`);

  const launcher = buildOciLauncher(spec, settings, new Set(Object.keys(environment)), facts.engine);
  args.push('--entrypoint', '/bin/sh', settings.image, LAUNCHER_PATH, ...spec.command);
  return { args, launcher };
}
