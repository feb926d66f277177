import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { declaresNvidiaGpu, DRIVER_LIBRARY_NAME, type GpuHostFacts } from './gpu.js';

const CDI_FOLDERS = ['/etc/cdi', '/var/run/cdi'];
/** Where distributions and the NVIDIA installer put the user-space driver. */
const LIBRARY_FOLDERS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/lib/x86_64-linux-gnu/nvidia/current',
  '/usr/local/nvidia/lib64',
];
const DRIVER_PROGRAMS = [
  'nvidia-smi',
  'nvidia-debugdump',
  'nvidia-cuda-mps-control',
  'nvidia-cuda-mps-server',
];

async function names(folder: string): Promise<string[]> {
  return readdir(folder).catch(() => []);
}

/** Reads /dev, the CDI folders and the library folders. A host without a GPU gives empty lists, never an error. */
export async function detectGpuHostFacts(): Promise<GpuHostFacts> {
  const cdiSpecFiles: string[] = [];
  for (const folder of CDI_FOLDERS)
    for (const name of await names(folder)) {
      if (!/\.(json|ya?ml)$/.test(name)) continue;
      const path = join(folder, name);
      const text = await readFile(path, 'utf8').catch(() => '');
      if (declaresNvidiaGpu(text)) cdiSpecFiles.push(path);
    }
  const driverLibraries: GpuHostFacts['driverLibraries'] = [];
  const seen = new Set<string>();
  for (const folder of LIBRARY_FOLDERS)
    for (const name of await names(folder)) {
      if (!DRIVER_LIBRARY_NAME.test(name)) continue;
      const path = join(folder, name);
      const real = await realpath(path).catch(() => undefined);
      if (!real || seen.has(path)) continue;
      seen.add(path);
      driverLibraries.push({ path, realPath: real });
    }
  const programFolders = [
    { folder: '/usr/bin', entries: new Set(await names('/usr/bin')) },
    { folder: '/usr/local/bin', entries: new Set(await names('/usr/local/bin')) },
  ];
  const driverPrograms = DRIVER_PROGRAMS.flatMap((program) => {
    const found = programFolders.find((candidate) => candidate.entries.has(program));
    return found ? [join(found.folder, program)] : [];
  });
  return {
    devEntries: await names('/dev'),
    driEntries: await names('/dev/dri'),
    cdiSpecFiles,
    driverLibraries,
    driverPrograms,
  };
}
