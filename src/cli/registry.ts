import type { CliCommand } from './command.js';
import { caCommand } from './commands/ca.js';
import { flowsCommand } from './commands/flows.js';
import { gatewayCommand } from './commands/gateway.js';
import { passwdCommand } from './commands/passwd.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { usageCommand } from './commands/usage.js';

/** Every `warren <name>` subcommand, in the order `warren --help` lists them. */
export const commands: CliCommand[] = [
  runCommand,
  serveCommand,
  passwdCommand,
  flowsCommand,
  caCommand,
  gatewayCommand,
  tokenCommand,
  usageCommand,
];
