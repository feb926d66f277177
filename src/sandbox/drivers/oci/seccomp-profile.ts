import { readFile } from 'node:fs/promises';
import { WarrenError } from '../../../errors/index.js';
import { REFUSED_SYSCALLS } from '../bwrap/seccomp.js';

/**
 * The engines' default seccomp profile, as containers-common installs it. Warren derives its profile from it
 * rather than shipping one: the engine's list of what a container needs stays the engine's.
 */
export const DEFAULT_ENGINE_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';

/** clone(2)/unshare(2) flag for a new user namespace (linux/sched.h). */
const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

interface SeccompArgument {
  index: number;
  value: number;
  valueTwo: number;
  op: string;
}

interface SeccompRule {
  names: string[];
  action: string;
  args?: SeccompArgument[] | null;
  errnoRet?: number;
  [key: string]: unknown;
}

interface SeccompProfile {
  defaultAction: string;
  syscalls: SeccompRule[];
  [key: string]: unknown;
}

const WITHOUT_NEW_USER: SeccompArgument = {
  index: 0,
  value: CLONE_NEWUSER,
  valueTwo: 0,
  op: 'SCMP_CMP_MASKED_EQ',
};
const WITH_NEW_USER: SeccompArgument = {
  index: 0,
  value: CLONE_NEWUSER,
  valueTwo: CLONE_NEWUSER,
  op: 'SCMP_CMP_MASKED_EQ',
};

/**
 * The bwrap driver's policy on top of the engine's default profile, so both drivers refuse the same:
 * - every call of bwrap's REFUSED_SYSCALLS answers ENOSYS (keyrings, io_uring, bpf, userfaultfd…), whatever
 *   capability the default profile would have allowed it for;
 * - no new user namespace: clone and unshare with CLONE_NEWUSER answer EPERM (bwrap: --disable-userns), and
 *   clone3, whose flags sit in memory a filter cannot read, answers ENOSYS so that libc falls back to clone.
 * Argument checks read the first argument as the flags: true of x86_64 and aarch64, the architectures Warren
 * filters for (bwrap/seccomp.ts).
 */
export function buildOciSeccompProfile(engineDefault: SeccompProfile): SeccompProfile {
  const refused = new Set(REFUSED_SYSCALLS.map((syscall) => syscall.name));
  const guarded = new Set(['clone', 'clone3', 'unshare']);
  const syscalls: SeccompRule[] = [];
  for (const rule of engineDefault.syscalls) {
    const names = rule.names.filter((name) => !refused.has(name) && !guarded.has(name));
    if (names.length > 0) syscalls.push({ ...rule, names });
  }
  syscalls.push(
    { names: [...refused], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    { names: ['clone', 'unshare'], action: 'SCMP_ACT_ALLOW', args: [WITHOUT_NEW_USER] },
    { names: ['clone', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [WITH_NEW_USER] },
  );
  return { ...engineDefault, syscalls };
}

/** Reads the engine's default profile and returns Warren's, as JSON for `--security-opt seccomp=FILE`. */
export async function readOciSeccompProfile(path = DEFAULT_ENGINE_SECCOMP_PROFILE): Promise<string> {
  let engineDefault: SeccompProfile;
  try {
    engineDefault = JSON.parse(await readFile(path, 'utf8')) as SeccompProfile;
    if (!Array.isArray(engineDefault.syscalls)) throw new Error('it has no "syscalls" list');
  } catch (error) {
    throw new WarrenError(
      'missing-dependency',
      `Warren's seccomp profile for containers is built on the engine's default profile, which could not be read from ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { hint: 'apt-get install golang-github-containers-common (containers-common elsewhere)' },
    );
  }
  return JSON.stringify(buildOciSeccompProfile(engineDefault));
}
