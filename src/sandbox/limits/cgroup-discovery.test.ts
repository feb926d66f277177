import { describe, expect, it } from 'vitest';
import { locateCgroups, parseCgroupMemberships, parseCgroupMounts } from './cgroup-discovery.js';

const hybridMountinfo = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '42 23 0:40 / /tmp/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

const hybridMembership = [
  '9:name=systemd:/',
  '8:pids:/',
  '4:memory:/process_api/5efd',
  '1:cpu:/',
  '0::/',
].join('\n');

describe('cgroup discovery', () => {
  it('reads v1 controllers and the v2 mount from mountinfo', () => {
    const mounts = parseCgroupMounts(hybridMountinfo);
    expect(mounts).toContainEqual({
      mountPoint: '/sys/fs/cgroup/memory',
      root: '/',
      version: 1,
      controllers: ['memory'],
    });
    expect(mounts).toContainEqual({
      mountPoint: '/sys/fs/cgroup/unified',
      root: '/',
      version: 2,
      controllers: [],
    });
    expect(mounts.some((mount) => mount.mountPoint.includes('space'))).toBe(false);
  });

  it('locates this process cgroups on a hybrid v1/v2 host', () => {
    const location = locateCgroups(
      parseCgroupMounts(hybridMountinfo),
      parseCgroupMemberships(hybridMembership),
    );
    expect(location.v1.memory).toBe('/sys/fs/cgroup/memory/process_api/5efd');
    expect(location.v1.pids).toBe('/sys/fs/cgroup/pids');
    expect(location.v2).toBe('/sys/fs/cgroup/unified');
  });

  it('locates a pure v2 host, also inside a container whose mount root is its own cgroup', () => {
    const mountinfo = '30 24 0:26 /user.slice /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
    const location = locateCgroups(
      parseCgroupMounts(mountinfo),
      parseCgroupMemberships('0::/user.slice/user-1000.slice/session-3.scope\n'),
    );
    expect(location).toEqual({ v1: {}, v2: '/sys/fs/cgroup/user-1000.slice/session-3.scope' });
  });

  it('gives no folder for a cgroup outside the mounted part, and unescapes mount points', () => {
    const mountinfo = '30 24 0:26 /other /sys/fs/cgroup\\040x rw - cgroup cgroup rw,pids';
    expect(parseCgroupMounts(mountinfo)[0]?.mountPoint).toBe('/sys/fs/cgroup x');
    expect(locateCgroups(parseCgroupMounts(mountinfo), parseCgroupMemberships('3:pids:/mine'))).toEqual({
      v1: {},
      v2: undefined,
    });
  });
});
