import { SANDBOX_PATHS } from '../../constants.js';
import { shellQuote } from '../../shell-quote.js';

/** Exit status of the launcher itself when it cannot set the sandbox up (distinct from the command's own). */
export const LAUNCHER_FAILURE_STATUS = 125;

export interface LauncherOptions {
  /** Start the proxy bridge on 127.0.0.1:<port> to the bind-mounted proxy socket. */
  proxy?: { port: number; socatPath: string };
  cpuSeconds?: number;
  /** Fallback memory cap (RLIMIT_AS) when no memory cgroup is available. */
  addressSpaceKiB?: number;
  /** Fallback process cap (RLIMIT_NPROC) when no pids cgroup is available; bwrap-driver.ts says when it holds. */
  processes?: number;
  /**
   * Keep the terminal open this long after the command exits. Linux drops what the PTY master has not
   * read yet once the last slave descriptor closes, so a command that prints and exits at once would
   * lose its last output; the launcher stays (instead of exec'ing) and holds the slave open briefly.
   */
  holdTerminalMs?: number;
  /** Tries for the bridge to listen (the first spin, the rest sleep 5 ms): a bound wait, then the launch fails. */
  bridgeWaitTries?: number;
}

/** Tries without sleeping before the bridge wait falls back to 5 ms sleeps. */
const SPIN_TRIES = 200;

/** `/proc/net/tcp` shows 127.0.0.1:<port> as local address `0100007F:<PORT in hex>`; state 0A is LISTEN. */
export function loopbackAddressHex(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A shell function that checks the listener with builtins only (no grep per try: forks cost ms each). */
function listeningCheck(port: number): string[] {
  return [
    'warren_listening() {',
    '  while read -r _ warren_local _ warren_state _; do',
    `    [ "$warren_local" = ${loopbackAddressHex(port)} ] && [ "$warren_state" = 0A ] && return 0`,
    '  done < /proc/net/tcp',
    '  return 1',
    '}',
  ];
}

/**
 * The sh script run as the sandbox's first process: it starts the proxy bridge, waits until it listens,
 * sets per-process rlimits (after the bridge, so the bridge is not subject to them) and execs the command ("$@").
 */
export function buildLauncherScript(options: LauncherOptions): string {
  const lines = ['set -u'];
  const fail = (message: string) =>
    `echo ${shellQuote(`warren: ${message}`)} >&2; exit ${LAUNCHER_FAILURE_STATUS}`;
  if (options.proxy) {
    const { port, socatPath } = options.proxy;
    const tries = options.bridgeWaitTries ?? SPIN_TRIES + 400;
    lines.push(
      `${shellQuote(socatPath)} TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${SANDBOX_PATHS.proxySocket} </dev/null 2>/dev/null &`,
      'warren_bridge=$!',
      'warren_tries=0',
      ...listeningCheck(port),
      'until warren_listening; do',
      `  kill -0 "$warren_bridge" 2>/dev/null || { ${fail('the proxy bridge (socat) exited before listening')}; }`,
      '  warren_tries=$((warren_tries + 1))',
      `  [ "$warren_tries" -le ${tries} ] || { ${fail(`the proxy bridge did not listen on 127.0.0.1:${port} in time`)}; }`,
      // The first tries spin on builtins (socat listens within a few ms; a sleep process costs as much),
      // later ones sleep so a slow start does not burn a core.
      `  [ "$warren_tries" -le ${SPIN_TRIES} ] || sleep 0.005`,
      'done',
      'unset warren_bridge warren_tries warren_local warren_state',
      'unset -f warren_listening',
    );
  }
  // sh's ulimit sets the soft and hard limits together, so the command cannot raise them again.
  if (options.cpuSeconds !== undefined)
    lines.push(`ulimit -t ${options.cpuSeconds} || { ${fail('could not set the CPU time limit')}; }`);
  if (options.addressSpaceKiB !== undefined)
    lines.push(
      `ulimit -v ${options.addressSpaceKiB} || { ${fail('could not set the address space limit')}; }`,
    );
  // dash (Debian's sh) names RLIMIT_NPROC -p; bash and busybox name it -u (bash's -p is the read-only pipe size).
  if (options.processes !== undefined)
    lines.push(
      `ulimit -u ${options.processes} 2>/dev/null || ulimit -p ${options.processes} || { ${fail('could not set the process limit')}; }`,
    );
  if (options.holdTerminalMs !== undefined) {
    const seconds = (options.holdTerminalMs / 1000).toFixed(3);
    lines.push('"$@"', 'warren_status=$?', `sleep ${seconds}`, 'exit "$warren_status"');
  } else {
    lines.push('exec "$@"');
  }
  return lines.join('\n');
}
