import { shellQuote } from '../shell-quote.js';

/** Exit status when the sandbox could not be placed in its cgroups (it never starts then). */
export const CGROUP_JOIN_FAILURE_STATUS = 125;

export interface HostWrapperOptions {
  /** Files opened for reading on the given descriptors (3 and up) as the command starts, e.g. a seccomp filter. */
  inputFiles?: { fd: number; path: string }[];
  shellPath?: string;
}

/**
 * Wraps a command so that its process first moves itself into the session's cgroups and then execs the command:
 * everything the sandbox starts inherits the cgroups, with no window where it runs outside them. The same shell
 * opens `inputFiles`, so the plan stays a plain argv that node-pty can spawn (it cannot pass extra descriptors).
 */
export function wrapWithCgroupJoin(
  procsFiles: string[],
  command: { file: string; args: string[] },
  options: HostWrapperOptions = {},
): { file: string; args: string[] } {
  const inputFiles = options.inputFiles ?? [];
  if (procsFiles.length === 0 && inputFiles.length === 0) return command;
  for (const input of inputFiles)
    if (!Number.isInteger(input.fd) || input.fd < 3 || input.fd > 9)
      throw new RangeError(`fd ${input.fd} is not 3-9`);
  const joins = procsFiles.map(
    (file) =>
      `echo $$ > ${shellQuote(file)} || { echo ${shellQuote(`warren: could not move the sandbox into ${file}`)} >&2; exit ${CGROUP_JOIN_FAILURE_STATUS}; }`,
  );
  const redirections = inputFiles.map((input) => ` ${input.fd}<${shellQuote(input.path)}`).join('');
  return {
    file: options.shellPath ?? '/bin/sh',
    args: [
      '-c',
      [...joins, `exec "$@"${redirections}`].join('\n'),
      'warren-sandbox',
      command.file,
      ...command.args,
    ],
  };
}
