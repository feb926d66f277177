import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SANDBOX_PATHS } from '../../constants.js';
import type { CgroupLocation } from '../../limits/cgroup-discovery.js';

/**
 * Rootless podman inside a bwrap sandbox (spec.nestedContainers). Found by trying on a Debian 12 host (podman
 * 4.3, runc 1.1, hybrid cgroups); each setting below is there because podman or runc failed without it:
 *
 * - one uid only: the sandbox maps the agent to the host user and nothing else, so podman falls back to a single
 *   mapping (container root = the agent) and `ignore_chown_errors` lets layers owned by other uids unpack;
 * - vfs storage in the session's HOME (a tmpfs): gone when the session ends, nothing shared with the host's;
 * - the inner containers share the sandbox's network namespace (only loopback, the proxy bridge on it) and its
 *   pid namespace: runc cannot mount a fresh /proc or /sys there, because bwrap covers parts of the sandbox's
 *   /proc and mounts no /sys, and the kernel refuses those mounts in a nested user namespace unless an
 *   uncovered one is already visible. With the host network and pid namespaces podman binds them instead;
 * - a read-only cgroup folder at /sys/fs/cgroup: runc refuses to start without a cgroup mount, and podman
 *   reads the cgroup version there. Rootless podman sets no limits with it; the session's own limits hold;
 * - /var/tmp: podman unpacks image archives there whatever TMPDIR says.
 */

/** Where the generated files are bound inside. */
const CONTAINERS_ETC = '/etc/containers';
const USER_STORAGE_CONF = `${SANDBOX_PATHS.home}/.config/containers/storage.conf`;

/** Files for /etc/containers: engine defaults, the signature policy and registry short names. */
export function buildContainersEtcFiles(): { name: string; content: string }[] {
  return [
    {
      name: 'containers.conf',
      content: [
        '# Written by Warren for nested containers (docs/containers.md).',
        '[containers]',
        '# The sandbox network (loopback and the egress proxy bridge) and pid namespace; see the driver notes.',
        'netns = "host"',
        'pidns = "host"',
        'cgroups = "enabled"',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        '# crun is not installed by Warren and fails on hybrid cgroup hosts; runc works rootless here.',
        'runtime = "runc"',
        'events_logger = "none"',
        'image_copy_tmp_dir = "/tmp"',
        '',
      ].join('\n'),
    },
    // Signatures are not verified inside (as podman's own default policy); pulls still pass the host policy.
    { name: 'policy.json', content: '{ "default": [{ "type": "insecureAcceptAnything" }] }\n' },
    {
      name: 'registries.conf',
      content: 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n',
    },
  ];
}

/** The agent's storage.conf: rootless podman reads its driver options only from the user's file. */
export function buildUserStorageConf(): string {
  return [
    "# Written by Warren for nested containers: images live in this session's HOME and vanish with it.",
    '[storage]',
    'driver = "vfs"',
    `graphroot = "${SANDBOX_PATHS.home}/.local/share/containers/storage"`,
    `runroot = "${SANDBOX_PATHS.tmp}/containers-run"`,
    '[storage.options.vfs]',
    '# One uid is mapped: files owned by others in an image are unpacked as the agent.',
    'ignore_chown_errors = "true"',
    '',
  ].join('\n');
}

/** Host paths of the generated files and the cgroup folder, as prepared by prepareNestedContainers. */
export interface NestedContainersHost {
  etcDir: string;
  storageConfPath: string;
  cgroupFolder: string;
}

/** bwrap arguments giving the sandbox what podman needs; they come after HOME's tmpfs. */
export function buildNestedContainerArgs(host: NestedContainersHost): string[] {
  return [
    '--ro-bind',
    host.etcDir,
    CONTAINERS_ETC,
    '--ro-bind',
    host.storageConfPath,
    USER_STORAGE_CONF,
    '--perms',
    '1777',
    '--tmpfs',
    '/var/tmp',
    '--ro-bind',
    host.cgroupFolder,
    '/sys/fs/cgroup',
  ];
}

/**
 * The cgroup folder shown read-only at /sys/fs/cgroup. With cgroup v2: an empty child of this process's cgroup
 * made for the session (nothing of the host's tree shows), else this process's own v2 folder. Without v2: the
 * host's /sys/fs/cgroup (v1 hierarchies, read-only; docs/containers.md names what that shows).
 */
async function sessionCgroupFolder(
  location: CgroupLocation,
  sessionId: string,
): Promise<{ folder: string; remove: () => Promise<void> }> {
  if (location.v2 === undefined) return { folder: '/sys/fs/cgroup', remove: async () => undefined };
  const folder = join(location.v2, `warren-nested-${sessionId}-${randomBytes(4).toString('hex')}`);
  const created = await mkdir(folder).then(
    () => true,
    () => false, // not root and no delegated subtree: the process's own folder is the fallback
  );
  if (!created) return { folder: location.v2, remove: async () => undefined };
  return { folder, remove: () => rmdir(folder).catch(() => undefined) };
}

/** Writes the configuration into the session's state folder and finds the cgroup folder; the caller removes. */
export async function prepareNestedContainers(
  stateFolder: string,
  sessionId: string,
  location: CgroupLocation,
): Promise<{ host: NestedContainersHost; remove: () => Promise<void> }> {
  const etcDir = join(stateFolder, 'containers');
  await mkdir(etcDir);
  await Promise.all(
    buildContainersEtcFiles().map((file) =>
      writeFile(join(etcDir, file.name), file.content, { mode: 0o644 }),
    ),
  );
  const storageConfPath = join(stateFolder, 'storage.conf');
  await writeFile(storageConfPath, buildUserStorageConf(), { mode: 0o644 });
  const cgroup = await sessionCgroupFolder(location, sessionId);
  return { host: { etcDir, storageConfPath, cgroupFolder: cgroup.folder }, remove: cgroup.remove };
}
