import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { WarrenError } from '../errors/index.js';
import { DEFAULT_AGENT_IMAGE } from './drivers/oci/oci-driver.js';
import type { OciEngineName, OciHostFacts } from './drivers/oci/facts.js';
import { engineProcessEnvironment } from './drivers/oci/engine-client.js';
import { detectHostFacts, ENGINE_CANDIDATES, findExecutable } from './drivers/oci/host-facts.js';

export interface ImageBuildRequest {
  engine: OciEngineName;
  /** Default DEFAULT_AGENT_IMAGE, the image sessions use unless told otherwise. */
  tag?: string;
  /** Default: images/agent/Containerfile of this package. */
  containerfile?: string;
  /** Build arguments (`--build-arg NAME=VALUE`), e.g. DEBIAN_IMAGE to build from a local mirror. */
  buildArgs?: Record<string, string>;
}

/** The Containerfile shipped with Warren, found relative to this module in src/ and in dist/. */
export function defaultContainerfilePath(): string {
  return fileURLToPath(new URL('../../images/agent/Containerfile', import.meta.url));
}

const IMAGE_TAG = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$/;

/**
 * `podman build` / `docker build` argv (without the engine path). Pure. On podman the host facts bring the same
 * runtime and ulimits the sessions need (crun fails on cgroup v1 hosts, default ulimits can exceed hard limits).
 */
export function buildImageBuildArgs(
  request: ImageBuildRequest,
  facts: Pick<OciHostFacts, 'runtime' | 'openFilesLimit' | 'processLimit'>,
): string[] {
  const tag = request.tag ?? DEFAULT_AGENT_IMAGE;
  if (!IMAGE_TAG.test(tag) || tag.length > 255)
    throw new WarrenError('invalid-argument', `"${tag}" is not a valid image tag`, {
      hint: 'Use a name like localhost/warren-agent:latest (letters, digits, ".", "_", "-", "/", ":").',
    });
  const containerfile = request.containerfile ?? defaultContainerfilePath();
  const args = ['build', '--tag', tag, '--file', containerfile];
  if (request.engine === 'podman') {
    if (facts.runtime) args.push('--runtime', facts.runtime);
    args.push('--ulimit', `nofile=${facts.openFilesLimit}:${facts.openFilesLimit}`);
    args.push('--ulimit', `nproc=${facts.processLimit}:${facts.processLimit}`);
  }
  // docker: no --progress flag, which the legacy builder (docker without buildx) refuses as unknown; plain
  // progress comes from BUILDKIT_PROGRESS in the environment instead (imageBuildEnvironment).
  for (const [name, value] of Object.entries(request.buildArgs ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new WarrenError('invalid-argument', `Build argument name "${name}" is not valid`, {
        hint: 'Use letters, digits and "_" in build argument names.',
      });
    args.push('--build-arg', `${name}=${value}`);
  }
  args.push(dirname(containerfile));
  return args;
}

/** The engine process's environment for a build: BuildKit prints plain lines a log or pipe can show. */
export function imageBuildEnvironment(
  engine: OciEngineName,
  hostEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const environment = engineProcessEnvironment(hostEnv);
  if (engine === 'docker') environment.BUILDKIT_PROGRESS = 'plain';
  return environment;
}

/**
 * Builds the image, streaming the engine's own progress to `output` as it comes. Resolves with the tag;
 * throws a WarrenError that says what to do when the engine is missing or the build fails.
 */
export async function buildAgentImage(
  request: ImageBuildRequest,
  output: Writable,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const enginePath = await findExecutable(ENGINE_CANDIDATES[request.engine]);
  const packageName = request.engine === 'podman' ? 'podman' : 'docker.io';
  if (!enginePath)
    throw new WarrenError(
      'missing-dependency',
      `${request.engine} is not installed: apt-get install ${packageName}`,
      {
        hint: `apt-get install ${packageName}`,
      },
    );
  const containerfile = request.containerfile ?? defaultContainerfilePath();
  if (!existsSync(containerfile))
    throw new WarrenError('not-found', `The Containerfile ${containerfile} does not exist`, {
      hint: 'Pass --file PATH, or reinstall Warren (images/agent/Containerfile ships with it).',
    });
  const facts =
    request.engine === 'podman'
      ? await detectHostFacts('podman', enginePath)
      : { runtime: undefined, openFilesLimit: 0, processLimit: 0 };
  const args = buildImageBuildArgs({ ...request, containerfile }, facts);
  const tag = request.tag ?? DEFAULT_AGENT_IMAGE;
  output.write(`$ ${request.engine} ${args.join(' ')}\n`);
  const status = await new Promise<number>((resolve, reject) => {
    const child = spawn(enginePath, args, {
      env: imageBuildEnvironment(request.engine, hostEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.write(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  if (status !== 0)
    throw new WarrenError(
      'sandbox-failed',
      `${request.engine} build of ${tag} failed (exit status ${status})`,
      {
        hint: 'Read the engine output above. Building needs network access to the base image registry and the Debian mirrors.',
      },
    );
  return tag;
}
