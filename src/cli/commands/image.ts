import { resolve } from 'node:path';
import { WarrenError } from '../../errors/index.js';
import { buildAgentImage, DEFAULT_AGENT_IMAGE, type OciEngineName } from '../../sandbox/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs } from '../parse.js';

const usage =
  'warren image build [--engine podman|docker] [--tag TAG] [--file PATH] [--build-arg NAME=VALUE]…';

const help = `Usage: ${usage}

Builds the default agent image for the podman and docker sandbox drivers from images/agent/Containerfile
(Debian with node, git, curl, socat and build tools), showing the engine's progress as it goes.
Building needs network access to the registry of the base image and to the Debian mirrors; sessions never
pull or build images themselves.

Options:
  --engine NAME          podman (default) or docker
  --tag TAG              image tag (default: ${DEFAULT_AGENT_IMAGE}, what sessions use unless
                         --image or sandbox.image names another)
  --file PATH            another Containerfile; its folder is the build context
  --build-arg NAME=VALUE pass a build argument, e.g. DEBIAN_IMAGE=registry.local/debian:bookworm-slim
  -h, --help             show this help
`;

function parseEngine(value: string | undefined): OciEngineName {
  if (value === undefined || value === 'podman') return 'podman';
  if (value === 'docker') return 'docker';
  throw new WarrenError('invalid-argument', `Unknown engine "${value}"`, {
    hint: 'Use --engine podman or --engine docker.',
  });
}

function parseBuildArgs(values: string[] | undefined): Record<string, string> {
  const buildArgs: Record<string, string> = {};
  for (const value of values ?? []) {
    const separator = value.indexOf('=');
    if (separator <= 0)
      throw new WarrenError('invalid-argument', `--build-arg "${value}" is not NAME=VALUE`, {
        hint: `usage: ${usage}`,
      });
    buildArgs[value.slice(0, separator)] = value.slice(separator + 1);
  }
  return buildArgs;
}

export const imageCommand: CliCommand = {
  name: 'image',
  summary: 'build the default agent image for the podman/docker drivers',
  help,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        engine: { type: 'string' },
        tag: { type: 'string' },
        file: { type: 'string' },
        'build-arg': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      usage,
    );
    if (values.help) {
      context.stdout.write(help);
      return 0;
    }
    const [action, ...rest] = positionals;
    if (action !== 'build' || rest.length > 0)
      throw new WarrenError(
        'invalid-argument',
        action ? `Unknown image action "${[action, ...rest].join(' ')}"` : 'Missing action',
        {
          hint: `usage: ${usage}`,
        },
      );
    const tag = await buildAgentImage(
      {
        engine: parseEngine(values.engine),
        tag: values.tag,
        containerfile: values.file === undefined ? undefined : resolve(context.cwd, values.file),
        buildArgs: parseBuildArgs(values['build-arg']),
      },
      context.stdout,
      context.env,
    );
    context.stdout.write(`Built ${tag}\n`);
    return 0;
  },
};
