import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostIdentity } from '../../host-identity.js';
import type { StagedMount } from '../../host-wrapper.js';
import type { NormalizedSandboxSpec } from '../../spec.js';

const run = promisify(execFile);

/** The device nodes bwrap's --dev binds from the host; bound again read-only over them when Warren is root. */
const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

export interface RootStaging {
  mounts: StagedMount[];
  stagedSources: Record<string, string>;
  readOnlyDevices: { path: string; source: string }[];
}

/**
 * Prepares what bwrap needs when it runs as the unprivileged sandbox identity: the state folder becomes searchable
 * (not listable) so that the generated /etc files are reachable; every other host path the sandbox binds gets an
 * empty mount point under `stage/`, where the host wrapper mounts it privately (host-wrapper.ts); the proxy socket
 * is given to the identity so that it may connect.
 */
export async function prepareRootStaging(
  stateFolder: string,
  spec: NormalizedSandboxSpec,
  identity: HostIdentity,
): Promise<RootStaging> {
  await chmod(stateFolder, 0o711);
  const stage = join(stateFolder, 'stage');
  await mkdir(stage, { mode: 0o711 });
  const sources = [
    spec.workspace,
    ...spec.mounts.map((mount) => mount.source),
    ...(spec.caBundlePath ? [spec.caBundlePath] : []),
    ...(spec.proxy ? [spec.proxy.socketPath] : []),
  ];
  const mounts: StagedMount[] = [];
  const stagedSources: Record<string, string> = {};
  for (const source of new Set(sources)) {
    const target = join(stage, String(mounts.length));
    if ((await stat(source)).isDirectory()) await mkdir(target, { mode: 0o700 });
    else await writeFile(target, '', { mode: 0o600 });
    mounts.push({ source, target });
    stagedSources[source] = target;
  }
  const readOnlyDevices: RootStaging['readOnlyDevices'] = [];
  for (const name of DEV_NODES) {
    const path = `/dev/${name}`;
    const device = await stat(path).catch(() => undefined);
    if (!device?.isCharacterDevice()) continue;
    const target = join(stage, `dev-${name}`);
    await writeFile(target, '', { mode: 0o600 });
    mounts.push({ source: path, target, readOnlyDevice: true });
    readOnlyDevices.push({ path, source: target });
  }
  if (spec.proxy) await chown(spec.proxy.socketPath, identity.uid, identity.gid);
  return { mounts, stagedSources, readOnlyDevices };
}

/**
 * Shared cache folders are written by every session: when Warren is root they belong to the sandbox identity
 * (given once, the first time; what sessions add is the identity's already).
 */
export async function giveCachesTo(folders: readonly string[], identity: HostIdentity): Promise<void> {
  for (const folder of folders) {
    const stats = await lstat(folder);
    if (stats.uid === identity.uid && stats.gid === identity.gid) continue;
    await run('chown', ['-R', '-P', '-h', `${identity.uid}:${identity.gid}`, '--', folder]);
  }
}
