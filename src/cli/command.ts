import type { Writable } from 'node:stream';

/** What every `warren <name>` subcommand gets: its own arguments and the process surroundings. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
}

export interface CliCommand {
  name: string;
  /** One line for `warren --help`. */
  summary: string;
  /** The full `warren <name> --help` text. */
  help: string;
  /** Returns the process exit status. Throw WarrenError for user-facing failures. */
  run(args: string[], context: CliContext): Promise<number>;
}
