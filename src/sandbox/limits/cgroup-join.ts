import { shellQuote } from '../shell-quote.js';

/** Exit status when the sandbox could not be placed in its cgroups (it never starts then). */
export const CGROUP_JOIN_FAILURE_STATUS = 125;

/**
 * Wraps a command so that its process first moves itself into the session's cgroups and then execs the command:
 * everything the sandbox starts inherits the cgroups, with no window where it runs outside them.
 */
export function wrapWithCgroupJoin(
  procsFiles: string[],
  command: { file: string; args: string[] },
  shellPath = '/bin/sh',
): { file: string; args: string[] } {
  if (procsFiles.length === 0) return command;
  const joins = procsFiles.map(
    (file) =>
      `echo $$ > ${shellQuote(file)} || { echo ${shellQuote(`warren: could not move the sandbox into ${file}`)} >&2; exit ${CGROUP_JOIN_FAILURE_STATUS}; }`,
  );
  return {
    file: shellPath,
    args: ['-c', [...joins, 'exec "$@"'].join('\n'), 'warren-cgroup-join', command.file, ...command.args],
  };
}
