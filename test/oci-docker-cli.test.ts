import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it, type TestContext } from 'vitest';
import { buildOciRunArgs } from '../src/sandbox/drivers/oci/index.js';
import { buildImageBuildArgs, defaultContainerfilePath, normalizeSandboxSpec } from '../src/sandbox/index.js';

/**
 * No docker daemon runs here, but the docker CLI parses every flag before it contacts the daemon: pointed at a
 * socket that does not exist, it answers "unknown flag" for a flag it does not know, and "Cannot connect to the
 * Docker daemon" once all of them parsed. That checks the docker argv against the real CLI.
 */
const DOCKER = ['/usr/bin/docker', '/usr/local/bin/docker'].find((path) => existsSync(path));

function runDockerClient(args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      DOCKER as string,
      args,
      {
        env: {
          PATH: '/usr/bin:/bin',
          HOME: '/nonexistent',
          DOCKER_HOST: 'unix:///nonexistent/warren-test/docker.sock',
        },
      },
      (error, _stdout, stderr) => resolve({ status: error ? Number(error.code) : 0, stderr }),
    ),
  );
}

function requireDockerClient(context: TestContext) {
  if (DOCKER) return;
  if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
  throw new Error('the docker client is not installed: apt-get install docker.io (or docker-ce-cli)');
}

describe('docker argv against the real docker CLI (no daemon)', () => {
  it('accepts every flag of a session with proxy, CA, mounts, limits and GPU', async (context) => {
    requireDockerClient(context);
    const { args } = buildOciRunArgs(
      normalizeSandboxSpec({
        sessionId: 's1',
        workspace: '/tmp',
        proxy: { socketPath: '/tmp/proxy.sock' },
        caBundlePath: '/etc/hosts',
        mounts: [{ source: '/usr/share', target: '/data', readonly: true }],
        limits: { memoryBytes: 64 * 1024 * 1024, pids: 64, cpus: 1.5, cpuSeconds: 10 },
        command: ['claude', '--dangerously-skip-permissions'],
      }),
      {
        engine: 'docker',
        rootless: false,
        runtime: undefined,
        openFilesLimit: 20000,
        processLimit: 32768,
        init: true,
        cgroupVersion: 1,
        cgroupControllers: ['cpu', 'memory', 'pids'],
      },
      {
        image: 'localhost/warren-agent:latest',
        containerName: 'warren-s1-test',
        instance: 'test',
        userNamespace: 'host',
        uidMapBase: 2_000_000_000,
        stateDir: '/tmp/state',
        socatPath: '/usr/bin/socat',
        gpuArgs: ['--gpus', 'all'],
        cacheMounts: [{ kind: 'npm', source: '/tmp/npm', target: '/var/cache/warren/npm' }],
      },
    );
    const result = await runDockerClient(args);
    expect(result.stderr).not.toMatch(/unknown (shorthand )?flag|invalid argument|invalid value/i);
    expect(result.stderr).toMatch(/Cannot connect to the Docker daemon/);
  });

  it('accepts the image build flags, with or without buildx', async (context) => {
    requireDockerClient(context);
    const args = buildImageBuildArgs(
      {
        engine: 'docker',
        containerfile: defaultContainerfilePath(),
        buildArgs: { DEBIAN_IMAGE: 'debian:12' },
      },
      { runtime: undefined, openFilesLimit: 0, processLimit: 0 },
    );
    const result = await runDockerClient(args);
    expect(result.stderr).not.toMatch(/unknown (shorthand )?flag|invalid argument/i);
    expect(result.stderr).toMatch(/Cannot connect to the Docker daemon|ERROR: .*docker\.sock|no such file/i);
  });
});
