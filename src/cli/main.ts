import { readFileSync } from 'node:fs';
import { formatError, isWarrenError } from '../errors/index.js';
import type { CliContext } from './command.js';
import { commands, type CommandEntry } from './registry.js';

function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function overview(list: CommandEntry[]): string {
  const width = Math.max(...list.map((command) => command.name.length));
  return [
    'warren: self-hosted sandboxes for AI coding agents',
    '',
    'Usage: warren <command> [options]',
    '',
    'Commands:',
    ...list.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `warren <command> --help` for the options of one command.',
    'Environment: WARREN_HOME (default $XDG_DATA_HOME/warren or ~/.local/share/warren) holds the database, CA and warren.yaml.',
    '',
  ].join('\n');
}

export async function main(argv: string[], context?: Partial<CliContext>): Promise<number> {
  const full: CliContext = {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    ...context,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    full.stdout.write(overview(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    full.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) {
    full.stderr.write(`warren: unknown command "${name}"\n\n${overview(commands)}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    const separator = rest.indexOf('--');
    const helpIndex = Math.max(rest.indexOf('--help'), rest.indexOf('-h'));
    if (separator === -1 || helpIndex < separator) {
      full.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return 0;
    }
  }
  try {
    return await command.run(rest, full);
  } catch (error) {
    full.stderr.write(`warren ${name}: ${formatError(error)}\n`);
    if (!isWarrenError(error) && full.env.WARREN_DEBUG) full.stderr.write(`${(error as Error).stack}\n`);
    return isWarrenError(error) && (error.code === 'invalid-argument' || error.code === 'invalid-config')
      ? 2
      : 1;
  }
}
