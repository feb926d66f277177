import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, type TestContext } from 'vitest';
import { imageCommand } from '../src/cli/commands/image.js';
import type { CliContext } from '../src/cli/command.js';
import { isWarrenError } from '../src/errors/index.js';
import { buildImageBuildArgs, defaultContainerfilePath } from '../src/sandbox/index.js';
import { ensureTestImage } from './helpers/rootfs.js';
import { uniqueMarker } from './sandbox/fixtures.js';

function cliContext(): { context: CliContext; output: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const context = { env: process.env, stdin: process.stdin, stdout, stderr: stdout, cwd: process.cwd() };
  return { context, output: () => text };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isWarrenError(error)) throw new Error(`expected a WarrenError, got ${String(error)}`);
  return error;
}

const facts = { runtime: 'runc', openFilesLimit: 20000, processLimit: 32768 };

describe('image build arguments', () => {
  it('builds the shipped Containerfile into the default tag, with the host runtime and ulimits on podman', () => {
    const containerfile = defaultContainerfilePath();
    expect(existsSync(containerfile)).toBe(true);
    expect(readFileSync(containerfile, 'utf8')).toMatch(/socat/);
    expect(buildImageBuildArgs({ engine: 'podman' }, facts)).toEqual([
      'build',
      '--tag',
      'localhost/warren-agent:latest',
      '--file',
      containerfile,
      '--runtime',
      'runc',
      '--ulimit',
      'nofile=20000:20000',
      '--ulimit',
      'nproc=32768:32768',
      containerfile.replace(/\/Containerfile$/, ''),
    ]);
  });

  it('passes build arguments on docker, with plain progress from the environment (not a flag)', () => {
    const args = buildImageBuildArgs(
      {
        engine: 'docker',
        tag: 'example/agent:1',
        containerfile: '/x/Containerfile',
        buildArgs: { DEBIAN_IMAGE: 'mirror/debian:12' },
      },
      facts,
    );
    expect(args).toEqual([
      'build',
      '--tag',
      'example/agent:1',
      '--file',
      '/x/Containerfile',
      '--build-arg',
      'DEBIAN_IMAGE=mirror/debian:12',
      '/x',
    ]);
  });

  it('refuses tags and build argument names that could be read as flags', () => {
    expect(() => buildImageBuildArgs({ engine: 'podman', tag: '--privileged' }, facts)).toThrow(
      /not a valid image tag/,
    );
    expect(() => buildImageBuildArgs({ engine: 'podman', buildArgs: { '-x': '1' } }, facts)).toThrow(
      /not valid/,
    );
  });
});

describe('warren image', () => {
  it('explains an unknown engine, a missing action and a bad --build-arg', async () => {
    const { context } = cliContext();
    const engine = await refusal(imageCommand.run(['build', '--engine', 'lxc'], context));
    expect(engine.message).toBe('Unknown engine "lxc"');
    expect(engine.hint).toMatch(/--engine podman or --engine docker/);
    expect((await refusal(imageCommand.run([], context))).hint).toMatch(/usage: warren image build/);
    expect((await refusal(imageCommand.run(['push'], context))).message).toBe('Unknown image action "push"');
    expect((await refusal(imageCommand.run(['build', '--build-arg', 'NOVALUE'], context))).message).toMatch(
      /NAME=VALUE/,
    );
  });

  it('refuses a Containerfile that does not exist', async () => {
    const { context } = cliContext();
    const error = await refusal(imageCommand.run(['build', '--file', '/nonexistent/Containerfile'], context));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('/nonexistent/Containerfile');
  });

  it('streams the engine output of a real (offline) podman build and tags the image', async (context: TestContext) => {
    const podman = existsSync('/usr/bin/podman');
    if (!podman) {
      if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
      throw new Error('podman is not installed: apt-get install podman');
    }
    // FROM a local image, so the build runs offline; the real Containerfile needs the network and is not built here.
    const base = await ensureTestImage();
    const folder = mkdtempSync(join(tmpdir(), 'warren-image-test-'));
    const tag = `localhost/warren-image-test:${uniqueMarker('t')}`;
    try {
      writeFileSync(join(folder, 'Containerfile'), `FROM ${base}\nRUN echo built-step-output > /built.txt\n`);
      const { context: cli, output } = cliContext();
      const status = await imageCommand.run(
        ['build', '--tag', tag, '--file', join(folder, 'Containerfile')],
        cli,
      );
      expect(status).toBe(0);
      expect(output()).toMatch(/\$ podman build --tag/);
      expect(output()).toMatch(/STEP 2\/2: RUN echo built-step-output/);
      expect(output()).toContain(`Built ${tag}`);
      expect(execFileSync('podman', ['image', 'exists', tag]).toString()).toBe('');
    } finally {
      execFileSync('podman', ['rmi', '--force', tag], { stdio: 'ignore' });
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
