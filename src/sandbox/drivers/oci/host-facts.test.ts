import { describe, expect, it } from 'vitest';
import { chooseRuntime, chooseUlimits, parseEngineInfo, parseHardLimits } from './host-facts.js';

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             96365                96365                processes
Max open files            1024                 20000                files
`;

describe('OCI host facts', () => {
  it('reads hard limits from /proc/self/limits', () => {
    expect(parseHardLimits(PROC_LIMITS)).toEqual({ openFiles: 20000, processes: 96365 });
    expect(parseHardLimits('Max open files  unlimited unlimited files\n').openFiles).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('keeps ulimits at or under the hard limits and the kernel pid_max', () => {
    expect(chooseUlimits({ openFiles: 20000, processes: 96365 }, 32768)).toEqual({
      openFiles: 20000,
      processes: 32768,
    });
    expect(
      chooseUlimits({ openFiles: Number.POSITIVE_INFINITY, processes: Number.POSITIVE_INFINITY }, 4194304),
    ).toEqual({
      openFiles: 1048576,
      processes: 4194304,
    });
  });

  it('switches to runc only where crun meets cgroup v1 or hybrid and runc exists', () => {
    expect(chooseRuntime('crun', 1, true)).toBe('runc');
    expect(chooseRuntime('crun', 1, false)).toBeUndefined();
    expect(chooseRuntime('crun', 2, true)).toBeUndefined();
    expect(chooseRuntime('runc', 1, true)).toBeUndefined();
  });

  it('reads the default runtime and usable cgroup controllers from podman info', () => {
    expect(parseEngineInfo('runc ["cpuset","cpu","memory","pids"]')).toEqual({
      defaultRuntime: 'runc',
      controllers: ['cpuset', 'cpu', 'memory', 'pids'],
    });
    expect(parseEngineInfo('crun []')).toEqual({ defaultRuntime: 'crun', controllers: [] });
    expect(parseEngineInfo('crun null')).toEqual({ defaultRuntime: 'crun', controllers: [] });
  });
});
