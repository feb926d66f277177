import { execFile } from 'node:child_process';
import { WarrenError } from '../../../errors/index.js';
import { INSTANCE_LABEL, SESSION_LABEL, type OciEngineName } from './facts.js';

/** The environment of every engine process: fixed, so no host secret rides along into `podman` or `docker`. */
export function engineProcessEnvironment(hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const environment: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
    LANG: 'C.UTF-8',
  };
  // Rootless podman and docker contexts find their state through these; they name folders, not secrets.
  for (const name of [
    'HOME',
    'XDG_RUNTIME_DIR',
    'XDG_CONFIG_HOME',
    'XDG_DATA_HOME',
    'DOCKER_HOST',
    'CONTAINER_HOST',
  ])
    if (hostEnv[name]) environment[name] = hostEnv[name] as string;
  return environment;
}

export interface EngineResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runEngineCommand(
  enginePath: string,
  args: string[],
  environment: Record<string, string>,
  timeoutMs = 60_000,
): Promise<EngineResult> {
  return new Promise((resolve) =>
    execFile(
      enginePath,
      args,
      { env: environment, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ status: code, stdout, stderr: stderr || (error && !stderr ? error.message : '') });
      },
    ),
  );
}

/** `ps` format that prints "<id>\t<session id>" per container; the two CLIs spell label access differently. */
export function leftoverListArgs(engine: OciEngineName, instance: string): string[] {
  const sessionField =
    engine === 'podman' ? `{{index .Labels "${SESSION_LABEL}"}}` : `{{.Label "${SESSION_LABEL}"}}`;
  return [
    'ps',
    '--all',
    '--filter',
    `label=${INSTANCE_LABEL}=${instance}`,
    '--format',
    `{{.ID}}\t${sessionField}`,
  ];
}

export function parseLeftoverList(output: string): { id: string; sessionId: string }[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', sessionId = ''] = line.split('\t');
      return { id, sessionId };
    })
    .filter((entry) => /^[0-9a-f]{6,64}$/i.test(entry.id));
}

/** `rm -f` that kills at once: the session is over, nothing inside deserves a grace period. */
export function removeArgs(engine: OciEngineName, names: string[]): string[] {
  // --ignore: one that is already gone (--rm got there first) must not stop the removal of the others.
  return engine === 'podman'
    ? ['rm', '--force', '--ignore', '--time', '0', ...names]
    : ['rm', '--force', ...names];
}

export function imageExistsArgs(engine: OciEngineName, image: string): string[] {
  return engine === 'podman'
    ? ['image', 'exists', image]
    : ['image', 'inspect', '--format', '{{.Id}}', image];
}

export function missingImage(engine: OciEngineName, image: string): WarrenError {
  return new WarrenError(
    'not-found',
    `The container image ${image} is not present in ${engine}'s local storage`,
    {
      hint: `Build the default image with \`warren image build --engine ${engine}\`, or \`${engine} pull ${image}\` it yourself; sessions never pull images.`,
    },
  );
}
