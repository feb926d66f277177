import { describe, expect, it } from 'vitest';
import { isWarrenError } from '../errors/index.js';
import { buildBwrapArgs } from './drivers/bwrap/args.js';
import { normalizeSandboxSpec } from './spec.js';
import {
  buildBwrapGpuArgs,
  buildOciGpuPlan,
  declaresNvidiaGpu,
  gpuDevicePaths,
  type GpuHostFacts,
} from './gpu.js';

/** A host with one NVIDIA card as the driver lays it out, written by hand: no GPU is needed to test this. */
const gpuHost: GpuHostFacts = {
  devEntries: [
    'null',
    'nvidia-uvm',
    'nvidia0',
    'nvidiactl',
    'nvidia-uvm-tools',
    'nvidia-modeset',
    'dri',
    'tty',
    'nvidia-caps',
  ],
  driEntries: ['renderD128', 'card0'],
  cdiSpecFiles: [],
  driverLibraries: [
    {
      path: '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
      realPath: '/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14',
    },
    {
      path: '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1',
      realPath: '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14',
    },
    {
      path: '/opt/nvidia/lib/libnvidia-ptxjitcompiler.so.1',
      realPath: '/opt/nvidia/lib/libnvidia-ptxjitcompiler.so.550',
    },
  ],
  driverPrograms: ['/usr/bin/nvidia-smi'],
};
const noGpuHost: GpuHostFacts = {
  devEntries: ['null', 'zero', 'tty', 'fuse'],
  driEntries: [],
  cdiSpecFiles: [],
  driverLibraries: [],
  driverPrograms: [],
};

function refusal(action: () => unknown) {
  try {
    action();
  } catch (error) {
    if (isWarrenError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('GPU arguments', () => {
  it('lists the NVIDIA device nodes and /dev/dri, not other /dev entries', () => {
    expect(gpuDevicePaths(gpuHost)).toEqual([
      '/dev/nvidia-modeset',
      '/dev/nvidia-uvm',
      '/dev/nvidia-uvm-tools',
      '/dev/nvidia0',
      '/dev/nvidiactl',
      '/dev/dri/card0',
      '/dev/dri/renderD128',
    ]);
  });

  it('bwrap: dev-binds the devices, shows /sys and binds only libraries outside /usr', () => {
    const args = buildBwrapGpuArgs(gpuHost);
    expect(args.slice(0, 3)).toEqual(['--dev-bind', '/dev/nvidia-modeset', '/dev/nvidia-modeset']);
    expect(args.join(' ')).toContain('--dev-bind /dev/nvidiactl /dev/nvidiactl');
    expect(args.join(' ')).toContain('--dev-bind /dev/dri/renderD128 /dev/dri/renderD128');
    expect(args.join(' ')).toContain('--ro-bind /sys /sys');
    expect(args.join(' ')).toContain(
      '--ro-bind /opt/nvidia/lib/libnvidia-ptxjitcompiler.so.1 /opt/nvidia/lib/libnvidia-ptxjitcompiler.so.1',
    );
    expect(args.join(' ')).not.toContain('libcuda');
  });

  it('bwrap: the GPU binds come after --dev /dev in the full argv', () => {
    const args = buildBwrapArgs(
      normalizeSandboxSpec({ sessionId: 's1', workspace: '/w', command: ['true'], gpu: true }),
      {
        rootEntries: [],
        etcEntries: [],
        generatedEtcDir: '/tmp/state',
        generatedEtcNames: [],
        socatPath: undefined,
        memoryFallbackKiB: undefined,
        gpuArgs: buildBwrapGpuArgs(gpuHost),
      },
    );
    const dev = args.findIndex((arg, index) => arg === '/dev' && args[index - 1] === '--dev');
    const firstDevice = args.indexOf('--dev-bind');
    expect(dev).toBeGreaterThan(0);
    expect(firstDevice).toBeGreaterThan(dev);
    expect(args.slice(firstDevice, firstDevice + 3)).toEqual([
      '--dev-bind',
      '/dev/nvidia-modeset',
      '/dev/nvidia-modeset',
    ]);
  });

  it('podman with a CDI spec: one --device nvidia.com/gpu=all and nothing else', () => {
    const plan = buildOciGpuPlan({ ...gpuHost, cdiSpecFiles: ['/etc/cdi/nvidia.yaml'] }, 'podman');
    expect(plan.args).toEqual(['--device', 'nvidia.com/gpu=all']);
    expect(plan.environment).toEqual({});
    expect(plan.mechanism).toBe('CDI spec /etc/cdi/nvidia.yaml');
  });

  it('podman without CDI: device nodes, driver libraries under their soname and nvidia-smi, read-only', () => {
    const plan = buildOciGpuPlan(gpuHost, 'podman');
    const devices = plan.args.filter((_arg, index) => plan.args[index - 1] === '--device');
    const volumes = plan.args.filter((_arg, index) => plan.args[index - 1] === '--volume');
    expect(devices).toContain('/dev/nvidia0:/dev/nvidia0:rwm');
    expect(devices).toContain('/dev/nvidia-uvm:/dev/nvidia-uvm:rwm');
    expect(devices).toHaveLength(7);
    expect(volumes).toEqual([
      '/opt/nvidia/lib/libnvidia-ptxjitcompiler.so.550:/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1:ro',
      '/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14:/usr/local/nvidia/lib64/libcuda.so.1:ro',
      '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14:/usr/local/nvidia/lib64/libnvidia-ml.so.1:ro',
      '/usr/bin/nvidia-smi:/usr/local/bin/nvidia-smi:ro',
    ]);
    expect(plan.environment).toEqual({ LD_LIBRARY_PATH: '/usr/local/nvidia/lib64' });
  });

  it("docker: the daemon's runtime with --gpus all", () => {
    expect(buildOciGpuPlan(gpuHost, 'docker').args).toEqual(['--gpus', 'all']);
  });

  it('refuses clearly when the host has no GPU, for every driver', () => {
    for (const action of [() => buildBwrapGpuArgs(noGpuHost), () => buildOciGpuPlan(noGpuHost, 'podman')]) {
      const error = refusal(action);
      expect(error.message).toBe(
        'No NVIDIA GPU on this host: /dev/nvidiactl and /dev/nvidia0 (or any /dev/nvidiaN) missing',
      );
      expect(error.hint).toMatch(/nvidia-smi works on the host/);
    }
    const onlyControl = refusal(() => buildOciGpuPlan({ ...noGpuHost, devEntries: ['nvidiactl'] }, 'podman'));
    expect(onlyControl.message).toContain('/dev/nvidia0 (or any /dev/nvidiaN) missing');
  });

  it('recognises CDI specs that declare nvidia.com/gpu, in YAML or JSON', () => {
    expect(declaresNvidiaGpu('cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: []\n')).toBe(true);
    expect(declaresNvidiaGpu('{"cdiVersion":"0.6.0","kind":"nvidia.com/gpu"}')).toBe(true);
    expect(declaresNvidiaGpu('kind: vendor.example/fpga\n')).toBe(false);
  });
});
