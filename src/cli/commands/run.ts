import { createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { constants, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { WarrenError } from '../../errors/index.js';
import { flowsToHar } from '../../proxy/index.js';
import {
  defaultSandboxLimits,
  formatBytes,
  formatProtectedPathsReport,
  isProtectedPathsReport,
  type SandboxLimits,
} from '../../sandbox/index.js';
import {
  exitStatus,
  limitSettingsOfConfig,
  prepareSession,
  resolveSessionLimits,
  unenforcedNotice,
  spawnWithPipes,
  spawnWithPty,
  type PreparedSession,
  type SpawnedSandbox,
} from '../../sessions/index.js';
import { isProcessAlive, openRuntime, type Runtime } from '../../server/runtime.js';
import type { CliCommand, CliContext } from '../command.js';
import { parseCommandArgs, parsePositiveInteger } from '../parse.js';

const usage = 'warren run [options] -- COMMAND [ARGS…]';

const hostMemory = totalmem();
const builtInLimits = defaultSandboxLimits(hostMemory);
const shown = {
  memoryBytes: formatBytes(builtInLimits.memoryBytes ?? 0),
  pids: String(builtInLimits.pids),
  tmpBytes: formatBytes(builtInLimits.tmpBytes ?? 0),
  homeBytes: formatBytes(builtInLimits.homeBytes ?? 0),
  shmBytes: formatBytes(builtInLimits.shmBytes ?? 0),
};

const help = `Usage: ${usage}

Runs COMMAND in an ephemeral sandbox whose only way out is Warren's recording egress proxy.
The exit status is COMMAND's (128 + N when it is killed by signal N).

Options:
  --dir PATH          workspace, mounted read-write at /workspace (default: current directory)
  --allow RULE        allow a host (repeatable): host, *.domain, IP or CIDR, optional :port
  --deny RULE         deny a host (repeatable); deny wins over allow
  --config PATH       config file (default: $WARREN_HOME/warren.yaml)
  --har PATH          write this session's flows as HAR 1.2 when COMMAND ends
  --keylog PATH       write the TLS key log (NSS format) of this session's connections
  --driver NAME       sandbox driver: bwrap (default), podman or docker
  --image NAME        container image for podman/docker (default: sandbox.image, else localhost/warren-agent)
  --gpu               give the sandbox the host's GPUs (see docs/gpu.md)
  --cache KIND        mount a shared package cache (repeatable): npm, pip, cargo, go, gradle, apt
  --nested-containers let COMMAND run rootless podman inside (bwrap only; allows nested user
                      namespaces, see "Nested containers" in docs/containers.md)
  --no-protect        leave the workspace's protected paths (.git config and hooks, .envrc, .bashrc,
                      .vscode/, …) writable and unchecked (default: sandbox.protectedPaths)
  --memory SIZE       memory of the whole session, e.g. 2g (default: ${shown.memoryBytes})
  --pids N            processes and threads of the whole session (default: ${shown.pids})
  --cpus N            CPU share, e.g. 1.5 (podman/docker; default: none)
  --cpu-time SECONDS  CPU time limit per process (default: none)
  --tmp-size SIZE     size of /tmp, a tmpfs (default: ${shown.tmpBytes})
  --home-size SIZE    size of HOME, a tmpfs (default: ${shown.homeBytes})
  --shm-size SIZE     size of /dev/shm, a tmpfs (default: ${shown.shmBytes})
  -h, --help          show this help

Limits: each comes from its flag, else from the same key in warren.yaml's sandbox section (memory,
pids, cpuTime, tmpSize, homeSize, shmSize), else from the defaults above (this host: ${formatBytes(hostMemory)} of RAM).
A limit set by flag or config that the host cannot enforce fails the run. A default is enforced where
the host allows (memory needs a writable cgroup: root, or a delegated cgroup v2) and otherwise named in
one line on stderr. The workspace is bounded only by the filesystem that holds it.

Protected paths: files in the workspace that the host runs on ordinary actions (git status, a new
shell, opening an editor) are read-only inside; the repository's config and hooks are the session's
own copy, so git works as usual. When COMMAND ends, what it changed there is listed on stderr and
nothing of it will run on the host (docs/sandbox.md, "Protected paths").

With a terminal on stdin, COMMAND runs in a pseudo-terminal; otherwise stdin, stdout and stderr reach it
as pipes that Warren copies (never Warren's own descriptors). Everything is denied by default: add --allow
rules (or policy.allow in warren.yaml). See the session's traffic with \`warren flows --session ID\`.
`;

function workspaceOf(dir: string | undefined, cwd: string): string {
  const path = resolve(cwd, dir ?? '.');
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new WarrenError('invalid-argument', `workspace ${path} is not a directory`, {
      hint: 'pass an existing folder with --dir',
    });
  }
  return path;
}

function parseCpus(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const cpus = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || cpus <= 0) {
    throw new WarrenError('invalid-argument', `--cpus must be a positive number such as 1.5, got "${value}"`);
  }
  return cpus;
}

function limitsOf(
  values: {
    memory?: string;
    pids?: string;
    cpus?: string;
    'cpu-time'?: string;
    'tmp-size'?: string;
    'home-size'?: string;
    'shm-size'?: string;
  },
  runtime: Runtime,
): SandboxLimits {
  return resolveSessionLimits(limitSettingsOfConfig(runtime.config.sandbox), {
    memory: values.memory,
    pids: parsePositiveInteger(values.pids, '--pids'),
    cpuSeconds: parsePositiveInteger(values['cpu-time'], '--cpu-time'),
    cpus: parseCpus(values.cpus),
    tmpSize: values['tmp-size'],
    homeSize: values['home-size'],
    shmSize: values['shm-size'],
  });
}

/** Runs the plan attached to this terminal (raw mode, resizes forwarded) or with plain pipes. */
function attach(session: PreparedSession, context: CliContext): SpawnedSandbox {
  const stdin = context.stdin;
  const stdout = context.stdout as NodeJS.WriteStream;
  if (!stdin.isTTY) {
    const spawned = spawnWithPipes(session.plan, { stdin, stdout, stderr: context.stderr });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => spawned.kill(signal));
    }
    return spawned;
  }
  const spawned = spawnWithPty(session.plan, { cols: stdout.columns || 80, rows: stdout.rows || 24 });
  stdin.setRawMode(true);
  stdin.resume();
  const forwardInput = (data: Buffer) => spawned.pty.write(data.toString('utf8'));
  stdin.on('data', forwardInput);
  spawned.pty.onData((data) => stdout.write(data));
  const onResize = () => spawned.pty.resize(stdout.columns || 80, stdout.rows || 24);
  stdout.on('resize', onResize);
  void spawned.exited.then(() => {
    stdin.off('data', forwardInput);
    stdout.off('resize', onResize);
    stdin.setRawMode(false);
    stdin.pause();
  });
  return spawned;
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run a command in a contained, observed sandbox',
  help,
  async run(args, context) {
    const { values, command } = parseCommandArgs(
      args,
      {
        dir: { type: 'string' },
        allow: { type: 'string', multiple: true },
        deny: { type: 'string', multiple: true },
        config: { type: 'string' },
        har: { type: 'string' },
        keylog: { type: 'string' },
        driver: { type: 'string' },
        image: { type: 'string' },
        gpu: { type: 'boolean' },
        cache: { type: 'string', multiple: true },
        'nested-containers': { type: 'boolean' },
        'no-protect': { type: 'boolean' },
        memory: { type: 'string' },
        pids: { type: 'string' },
        cpus: { type: 'string' },
        'cpu-time': { type: 'string' },
        'tmp-size': { type: 'string' },
        'home-size': { type: 'string' },
        'shm-size': { type: 'string' },
      },
      usage,
    );
    if (command.length === 0) {
      throw new WarrenError('invalid-argument', 'no command given', { hint: `usage: ${usage}` });
    }
    const workspace = workspaceOf(values.dir, context.cwd);
    const runtime = await openRuntime({
      env: context.env,
      ...(values.config ? { configPath: resolve(context.cwd, values.config) } : {}),
    });
    try {
      // A `warren run` killed earlier left its session `running`: it ended then, and says it crashed.
      runtime.store.sessions.endAllRunning(Date.now(), isProcessAlive);
      for (const warning of runtime.configWarnings) context.stderr.write(`warren: config: ${warning}\n`);
      const policy = runtime.policyWith({ allow: values.allow ?? [], deny: values.deny ?? [] });
      const limits = limitsOf(values, runtime);
      const driver = await runtime.openDriver(values.driver);
      const keylog = values.keylog
        ? createWriteStream(resolve(context.cwd, values.keylog), { mode: 0o600 })
        : undefined;
      const session = await prepareSession(runtime.sessionParts(driver), {
        kind: 'run',
        command,
        workspace,
        policy,
        limits,
        gpu: Boolean(values.gpu),
        caches: [...runtime.config.sandbox.caches, ...(values.cache ?? [])],
        ...(values.image ? { image: values.image } : {}),
        ...(values['nested-containers'] ? { nestedContainers: true } : {}),
        ...(values['no-protect'] ? { protectedPaths: false } : {}),
        tty: Boolean(context.stdin.isTTY),
        ...(keylog ? { onKeylog: (line: Buffer) => keylog.write(line) } : {}),
      });
      if (context.env.WARREN_DEBUG) context.stderr.write(`warren: session ${session.id}\n`);
      const notice = unenforcedNotice(session.plan.unenforced ?? []);
      if (notice) context.stderr.write(`${notice}\n`);
      let exit;
      try {
        exit = await attach(session, context).exited;
      } finally {
        await session.finish(exit ?? { error: 'the sandbox could not be started' });
      }
      // Whether piped or not: what the session left for the host to run is the user's to know.
      const protectedPaths = runtime.store.sessions.get(session.id)?.details.protectedPaths;
      const report = formatProtectedPathsReport(
        isProtectedPathsReport(protectedPaths) ? protectedPaths : undefined,
      );
      if (report) context.stderr.write(report);
      if (keylog) await new Promise<void>((done) => keylog.end(done));
      if (values.har) {
        const flows = runtime.store.flows.query({ sessionId: session.id, withBodies: true, limit: 100_000 });
        writeFileSync(resolve(context.cwd, values.har), JSON.stringify(flowsToHar(flows), null, 2));
      }
      // Interactive users get the id to look the traffic up; piped output stays the command's alone.
      if (context.stdin.isTTY) {
        const count = runtime.store.flows.count(session.id);
        context.stderr.write(
          `warren: session ${session.id} ended; ${count} request(s) recorded: warren flows --session ${session.id}\r\n`,
        );
      }
      return exitStatus(exit, constants.signals as Record<string, number>);
    } finally {
      await runtime.close();
    }
  },
};
