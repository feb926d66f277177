import { posix } from 'node:path';
import { WarrenError } from '../errors/index.js';
import type { OciEngineName } from './drivers/oci/facts.js';

/**
 * What GPU support needs to know about the host, gathered by gpu-host.ts and written by hand in tests:
 * no GPU is needed to test the arguments.
 */
export interface GpuHostFacts {
  /** Names in /dev (nvidia0, nvidiactl, nvidia-uvm, dri, …). */
  devEntries: string[];
  /** Names in /dev/dri (card0, renderD128), empty when absent. */
  driEntries: string[];
  /** CDI spec files (/etc/cdi, /var/run/cdi) that declare the kind nvidia.com/gpu. */
  cdiSpecFiles: string[];
  /** Driver user-space libraries: `path` as found (a soname link or a file) and `realPath`, its final file. */
  driverLibraries: { path: string; realPath: string }[];
  /** Driver tools such as nvidia-smi, by absolute host path. */
  driverPrograms: string[];
}

/** Where the podman/docker driver mounts driver libraries when it has no CDI spec (NVIDIA's old convention). */
export const CONTAINER_GPU_LIBRARY_DIR = '/usr/local/nvidia/lib64';

const NVIDIA_DEVICE = /^nvidia(\d+|ctl|-uvm|-uvm-tools|-modeset)$/;

/** Library file names of the NVIDIA user-space driver (CUDA, NVML, OpenCL, Vulkan/GL vendor libraries). */
export const DRIVER_LIBRARY_NAME =
  /^lib(cuda|cudadebugger|nvcuvid|nvoptix|nvidia-[a-z0-9-]+|GLX_nvidia|EGL_nvidia|GLESv2_nvidia|GLESv1_CM_nvidia)\.so(\.[0-9.]+)?$/;

/** A CDI spec declares its devices' kind at the top level: `kind: nvidia.com/gpu` (YAML) or `"kind": "…"`. */
export function declaresNvidiaGpu(cdiSpecText: string): boolean {
  return /["']?kind["']?\s*:\s*["']?nvidia\.com\/gpu["']?/.test(cdiSpecText);
}

/** The device nodes a GPU session needs, as absolute paths, in a stable order. */
export function gpuDevicePaths(facts: GpuHostFacts): string[] {
  const nvidia = facts.devEntries.filter((name) => NVIDIA_DEVICE.test(name)).sort();
  return [
    ...nvidia.map((name) => `/dev/${name}`),
    ...[...facts.driEntries].sort().map((name) => `/dev/dri/${name}`),
  ];
}

/** Fails closed with what to do when the spec asks for a GPU and the host has none. */
export function requireGpu(facts: GpuHostFacts): void {
  const devices = gpuDevicePaths(facts);
  const hasControl = devices.includes('/dev/nvidiactl');
  const hasCard = devices.some((path) => /^\/dev\/nvidia\d+$/.test(path));
  if (hasControl && hasCard) return;
  const missing = [
    hasControl ? undefined : '/dev/nvidiactl',
    hasCard ? undefined : '/dev/nvidia0 (or any /dev/nvidiaN)',
  ]
    .filter(Boolean)
    .join(' and ');
  throw new WarrenError('invalid-argument', `No NVIDIA GPU on this host: ${missing} missing`, {
    hint: 'Install the NVIDIA driver so that nvidia-smi works on the host (and load nvidia-uvm for CUDA), or start the session without GPU access (no --gpu, GPU box unticked).',
  });
}

/**
 * bwrap arguments for the GPU, to be placed after `--dev /dev` (a device bound before it would be hidden):
 * the device nodes with --dev-bind, /sys read-only (NVML and CUDA read PCI topology there), and driver
 * libraries that do not already lie under the host's /usr, which the sandbox shows anyway.
 */
export function buildBwrapGpuArgs(facts: GpuHostFacts): string[] {
  requireGpu(facts);
  const args: string[] = [];
  for (const device of gpuDevicePaths(facts)) args.push('--dev-bind', device, device);
  args.push('--ro-bind', '/sys', '/sys');
  const outside = new Set<string>();
  for (const library of facts.driverLibraries)
    for (const path of [library.path, library.realPath]) if (!path.startsWith('/usr/')) outside.add(path);
  for (const path of [...outside].sort()) args.push('--ro-bind', path, path);
  return args;
}

/** podman/docker arguments and variables for the GPU. */
export interface OciGpuPlan {
  args: string[];
  environment: Record<string, string>;
  /** For logs: "CDI spec /etc/cdi/nvidia.yaml", "device nodes and driver mounts" or "docker --gpus". */
  mechanism: string;
}

/**
 * podman uses a CDI spec when the host has one (`--device nvidia.com/gpu=all`: the spec names the devices,
 * libraries and hooks that match the installed driver); without one it passes the device nodes and mounts the
 * driver libraries and tools read-only. docker leaves it to the daemon's NVIDIA runtime (`--gpus all`).
 */
export function buildOciGpuPlan(facts: GpuHostFacts, engine: OciEngineName): OciGpuPlan {
  requireGpu(facts);
  if (engine === 'docker')
    return {
      args: ['--gpus', 'all'],
      environment: {},
      mechanism: "docker --gpus all (the daemon's NVIDIA runtime)",
    };
  if (facts.cdiSpecFiles.length > 0)
    return {
      args: ['--device', 'nvidia.com/gpu=all'],
      environment: {},
      mechanism: `CDI spec ${facts.cdiSpecFiles.join(', ')}`,
    };
  const args: string[] = [];
  for (const device of gpuDevicePaths(facts)) args.push('--device', `${device}:${device}:rwm`);
  for (const library of [...facts.driverLibraries].sort((a, b) => a.path.localeCompare(b.path)))
    args.push(
      '--volume',
      `${library.realPath}:${CONTAINER_GPU_LIBRARY_DIR}/${posix.basename(library.path)}:ro`,
    );
  for (const program of [...facts.driverPrograms].sort())
    args.push('--volume', `${program}:/usr/local/bin/${posix.basename(program)}:ro`);
  return {
    args,
    environment: { LD_LIBRARY_PATH: CONTAINER_GPU_LIBRARY_DIR },
    mechanism: 'device nodes and driver mounts (no CDI spec in /etc/cdi or /var/run/cdi)',
  };
}
