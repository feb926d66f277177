/**
 * A seccomp filter for bwrap (`--seccomp FD`): bwrap itself installs none. It answers ENOSYS to a short list of
 * system calls that coding agents do not need and that carry most of the kernel attack surface reachable from
 * an unprivileged process, so programs that probe for them fall back as on an older kernel. Everything else is
 * allowed; containment does not depend on this filter (it is one more layer).
 */

export type SeccompArchitecture = 'x64' | 'arm64';

/** System calls refused, with why, and their numbers on x86_64 and on aarch64 (asm-generic numbering). */
export const REFUSED_SYSCALLS: readonly { name: string; x64: number; arm64: number; why: string }[] = [
  { name: 'io_uring_setup', x64: 425, arm64: 425, why: 'io_uring: a large, often exploited kernel surface' },
  { name: 'io_uring_enter', x64: 426, arm64: 426, why: 'io_uring' },
  { name: 'io_uring_register', x64: 427, arm64: 427, why: 'io_uring' },
  { name: 'userfaultfd', x64: 323, arm64: 282, why: 'a staple of kernel exploits (stalling page faults)' },
  { name: 'bpf', x64: 321, arm64: 280, why: 'eBPF programs' },
  { name: 'perf_event_open', x64: 298, arm64: 241, why: 'performance counters, side channels' },
  { name: 'keyctl', x64: 250, arm64: 219, why: 'kernel keyrings are shared beyond the sandbox' },
  { name: 'add_key', x64: 248, arm64: 217, why: 'kernel keyrings' },
  { name: 'request_key', x64: 249, arm64: 218, why: 'kernel keyrings' },
  { name: 'kexec_load', x64: 246, arm64: 104, why: 'loading a new kernel' },
  { name: 'kexec_file_load', x64: 320, arm64: 294, why: 'loading a new kernel' },
  { name: 'init_module', x64: 175, arm64: 105, why: 'kernel modules' },
  { name: 'finit_module', x64: 313, arm64: 273, why: 'kernel modules' },
  { name: 'delete_module', x64: 176, arm64: 106, why: 'kernel modules' },
  { name: 'open_by_handle_at', x64: 304, arm64: 265, why: 'opens files by handle, around mount boundaries' },
  { name: 'name_to_handle_at', x64: 303, arm64: 264, why: 'file handles (pairs with open_by_handle_at)' },
  { name: 'acct', x64: 163, arm64: 89, why: 'process accounting of the host' },
  { name: 'swapon', x64: 167, arm64: 224, why: 'host swap' },
  { name: 'swapoff', x64: 168, arm64: 225, why: 'host swap' },
  { name: 'reboot', x64: 169, arm64: 142, why: 'host power state' },
  { name: 'quotactl', x64: 179, arm64: 60, why: 'host disk quotas' },
  { name: 'lookup_dcookie', x64: 212, arm64: 18, why: 'profiling internals' },
];

const AUDIT_ARCH: Record<SeccompArchitecture, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };

// Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
const LOAD_WORD_ABSOLUTE = 0x20;
const JUMP_IF_EQUAL = 0x15;
const JUMP_IF_GREATER_OR_EQUAL = 0x35;
const RETURN = 0x06;
const RETURN_ALLOW = 0x7fff0000;
const RETURN_KILL_PROCESS = 0x80000000;
const RETURN_ERRNO = 0x00050000;
const ENOSYS = 38;
/** seccomp_data: int nr at offset 0, u32 arch at offset 4. */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** x32 system calls on x86_64 carry this bit; refused as a whole so the table above cannot be bypassed. */
const X32_SYSCALL_BIT = 0x40000000;

interface Instruction {
  code: number;
  jumpIfTrue: number;
  jumpIfFalse: number;
  value: number;
}

/** The filter as instructions: wrong architecture kills, listed calls answer ENOSYS, the rest is allowed. */
export function buildSeccompProgram(architecture: SeccompArchitecture): Instruction[] {
  const numbers = REFUSED_SYSCALLS.map((syscall) => syscall[architecture]);
  const checks: Omit<Instruction, 'jumpIfTrue'>[] = [];
  if (architecture === 'x64')
    checks.push({ code: JUMP_IF_GREATER_OR_EQUAL, jumpIfFalse: 0, value: X32_SYSCALL_BIT });
  for (const number of numbers) checks.push({ code: JUMP_IF_EQUAL, jumpIfFalse: 0, value: number });
  const program: Instruction[] = [
    { code: LOAD_WORD_ABSOLUTE, jumpIfTrue: 0, jumpIfFalse: 0, value: OFFSET_ARCH },
    { code: JUMP_IF_EQUAL, jumpIfTrue: 1, jumpIfFalse: 0, value: AUDIT_ARCH[architecture] },
    // Another ABI (32-bit x86 on x86_64, for instance) has other numbers: nothing of it may run.
    { code: RETURN, jumpIfTrue: 0, jumpIfFalse: 0, value: RETURN_KILL_PROCESS },
    { code: LOAD_WORD_ABSOLUTE, jumpIfTrue: 0, jumpIfFalse: 0, value: OFFSET_NR },
  ];
  checks.forEach((check, index) => {
    // Jump offsets count from the next instruction: skip the remaining checks and the allow to reach the refusal.
    const remaining = checks.length - index - 1;
    program.push({ ...check, jumpIfTrue: remaining + 1 });
  });
  program.push({ code: RETURN, jumpIfTrue: 0, jumpIfFalse: 0, value: RETURN_ALLOW });
  program.push({ code: RETURN, jumpIfTrue: 0, jumpIfFalse: 0, value: RETURN_ERRNO | ENOSYS });
  return program;
}

/** struct sock_filter[] in the machine's byte order (both supported architectures are little-endian). */
export function encodeSeccompProgram(program: Instruction[]): Buffer {
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    const offset = index * 8;
    bytes.writeUInt16LE(instruction.code, offset);
    bytes.writeUInt8(instruction.jumpIfTrue, offset + 2);
    bytes.writeUInt8(instruction.jumpIfFalse, offset + 3);
    bytes.writeUInt32LE(instruction.value >>> 0, offset + 4);
  });
  return bytes;
}

/** The architecture of this Node process when a filter exists for it, else undefined (no filter is installed). */
export function seccompArchitectureOf(nodeArchitecture: string): SeccompArchitecture | undefined {
  return nodeArchitecture === 'x64' || nodeArchitecture === 'arm64' ? nodeArchitecture : undefined;
}
