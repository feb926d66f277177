import { openHome } from '../../config/index.js';
import { WarrenError } from '../../errors/index.js';
import { CACHE_KINDS, clearCaches, listCaches } from '../../sandbox/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs } from '../parse.js';

const usage = 'warren cache ls | warren cache clear [KIND…]';

const help = `Usage: ${usage}

Shared package caches live in $WARREN_HOME/caches and are mounted into sessions that ask for them
(caches: [npm, pip] in a session, or sandbox.caches in warren.yaml), with the variables that point each
tool there. Sessions that share a cache can influence each other through it: share caches only between
sessions that trust each other.

Kinds: ${CACHE_KINDS.join(', ')}, and proxy (the egress proxy's download cache, $WARREN_HOME/caches/proxy)

  ls              show each cache, its size and folder
  clear [KIND…]   empty the named caches (all when none is named)
`;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const cacheCommand: CliCommand = {
  name: 'cache',
  summary: 'list or clear the shared package caches',
  help,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, { help: { type: 'boolean', short: 'h' } }, usage);
    if (values.help) {
      context.stdout.write(help);
      return 0;
    }
    const [action, ...kinds] = positionals;
    const { cachesDir } = openHome(context.env);
    if (action === 'ls' && kinds.length === 0) {
      const rows = await listCaches(cachesDir);
      const kindWidth = Math.max(4, ...rows.map((row) => row.kind.length));
      context.stdout.write(
        `${'KIND'.padEnd(kindWidth)}  ${'SIZE'.padStart(10)}  ${'FILES'.padStart(7)}  FOLDER\n`,
      );
      for (const row of rows)
        context.stdout.write(
          `${row.kind.padEnd(kindWidth)}  ${formatBytes(row.bytes).padStart(10)}  ${String(row.files).padStart(7)}  ${row.path}\n`,
        );
      return 0;
    }
    if (action === 'clear') {
      const cleared = await clearCaches(cachesDir, kinds);
      context.stdout.write(`Cleared ${cleared.join(', ')}\n`);
      return 0;
    }
    throw new WarrenError(
      'invalid-argument',
      action ? `Unknown cache action "${positionals.join(' ')}"` : 'Missing action',
      {
        hint: `usage: ${usage}`,
      },
    );
  },
};
