import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../helpers/rootfs.js';
import { freshDirectories, warren } from './warren-cli.js';

const run = promisify(execFile);

/** `warren run --nested-containers`: the real CLI and bwrap, rootless podman inside, an image loaded offline. */
describe('warren run --nested-containers', () => {
  let image: string;

  beforeAll(async () => {
    // Fails with "podman is not installed: apt-get install podman" where podman is missing.
    image = await ensureTestImage();
  }, 180_000);

  it('runs a container inside the session, and only with the option', async () => {
    const { home, workspace } = freshDirectories();
    await run('podman', [
      'save',
      '--quiet',
      '--format',
      'oci-archive',
      '-o',
      join(workspace, 'image.tar'),
      image,
    ]);
    const script = `podman load -q -i image.tar >/dev/null 2>&1; podman run --rm ${image} echo hi from inside`;
    const allowed = await warren(
      ['run', '--dir', workspace, '--nested-containers', '--', 'sh', '-c', script],
      {
        env: { WARREN_HOME: home },
      },
    );
    expect(allowed.stdout).toBe('hi from inside\n');
    expect(allowed.code).toBe(0);
    const refused = await warren(['run', '--dir', workspace, '--', 'sh', '-c', script], {
      env: { WARREN_HOME: home },
    });
    expect(refused.stdout).not.toContain('hi from inside');
    expect(refused.code).not.toBe(0);
  }, 120_000);

  it('says the podman driver does not support it', async () => {
    const { home, workspace } = freshDirectories();
    const result = await warren(
      ['run', '--dir', workspace, '--driver', 'podman', '--nested-containers', '--', 'true'],
      { env: { WARREN_HOME: home } },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Nested containers are not supported with the podman driver');
  });

  it('documents the option in its help', async () => {
    const result = await warren(['run', '--help'], { env: { WARREN_HOME: freshDirectories().home } });
    expect(result.stdout).toContain('--nested-containers');
  });
});
