import { posix } from 'node:path';

/** One cgroup file system mount, from /proc/self/mountinfo. */
export interface CgroupMount {
  mountPoint: string;
  /** The cgroup path that this mount shows at its mount point (not "/" inside many containers). */
  root: string;
  version: 1 | 2;
  /** v1: the controllers of this hierarchy; v2: empty (read cgroup.controllers instead). */
  controllers: string[];
}

/** One line of /proc/self/cgroup: which cgroup this process is in, per hierarchy. */
export interface CgroupMembership {
  hierarchyId: number;
  controllers: string[];
  path: string;
}

/** Where this process's own cgroups are, as folders: the parents under which session cgroups are made. */
export interface CgroupLocation {
  /** cgroup v1 folders by controller name, for the controllers this process can see. */
  v1: Record<string, string>;
  /** The cgroup v2 folder of this process, when a cgroup2 file system is mounted. */
  v2: string | undefined;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const fsType = after[0];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const root = before[3];
    const mountPoint = before[4];
    if (root === undefined || mountPoint === undefined) continue;
    const superOptions = (after[2] ?? '').split(',');
    mounts.push({
      mountPoint: unescapeMountField(mountPoint),
      root: unescapeMountField(root),
      version: fsType === 'cgroup2' ? 2 : 1,
      controllers:
        fsType === 'cgroup2' ? [] : superOptions.filter((option) => option !== 'rw' && option !== 'ro'),
    });
  }
  return mounts;
}

export function parseCgroupMemberships(procSelfCgroup: string): CgroupMembership[] {
  const memberships: CgroupMembership[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    memberships.push({
      hierarchyId: Number(match[1]),
      controllers: match[2] ? match[2].split(',') : [],
      path: match[3] ?? '/',
    });
  }
  return memberships;
}

/** The folder of `path` under a mount showing `root`, or undefined when the path lies outside what is mounted. */
function folderUnderMount(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (root && path !== root && !path.startsWith(root + '/')) return undefined;
  const rest = path.slice(root.length).replace(/^\/+/, '');
  return rest ? posix.join(mount.mountPoint, rest) : mount.mountPoint;
}

export function locateCgroups(mounts: CgroupMount[], memberships: CgroupMembership[]): CgroupLocation {
  const location: CgroupLocation = { v1: {}, v2: undefined };
  for (const membership of memberships) {
    if (membership.hierarchyId === 0 && membership.controllers.length === 0) {
      const mount = mounts.find((candidate) => candidate.version === 2);
      if (mount) location.v2 = folderUnderMount(mount, membership.path);
      continue;
    }
    for (const controller of membership.controllers) {
      const mount = mounts.find(
        (candidate) => candidate.version === 1 && candidate.controllers.includes(controller),
      );
      const folder = mount && folderUnderMount(mount, membership.path);
      if (folder) location.v1[controller] = folder;
    }
  }
  return location;
}
