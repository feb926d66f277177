import { describe, expect, it } from 'vitest';
import {
  buildSeccompProgram,
  encodeSeccompProgram,
  REFUSED_SYSCALLS,
  seccompArchitectureOf,
  type SeccompArchitecture,
} from './seccomp.js';

const ALLOW = 0x7fff0000;
const ENOSYS_ERRNO = 0x00050000 | 38;
const KILL = 0x80000000;
const ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 };

/** Runs the encoded filter the way the kernel does, for one system call: a check of the bytes, not of the objects. */
function evaluate(bytes: Buffer, arch: number, nr: number): number {
  let accumulator = 0;
  for (let pc = 0; pc * 8 < bytes.length; pc += 1) {
    const code = bytes.readUInt16LE(pc * 8);
    const jumpIfTrue = bytes.readUInt8(pc * 8 + 2);
    const jumpIfFalse = bytes.readUInt8(pc * 8 + 3);
    const value = bytes.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) accumulator = value === 4 ? arch : value === 0 ? nr : Number.NaN;
    else if (code === 0x15) pc += accumulator === value ? jumpIfTrue : jumpIfFalse;
    else if (code === 0x35) pc += accumulator >= value ? jumpIfTrue : jumpIfFalse;
    else if (code === 0x06) return value;
    else throw new Error(`unexpected opcode ${code}`);
  }
  throw new Error('the filter fell off its end');
}

describe('seccomp filter', () => {
  for (const architecture of ['x64', 'arm64'] as SeccompArchitecture[]) {
    const bytes = encodeSeccompProgram(buildSeccompProgram(architecture));

    it(`refuses every listed call with ENOSYS and allows the rest (${architecture})`, () => {
      for (const syscall of REFUSED_SYSCALLS)
        expect(evaluate(bytes, ARCH[architecture], syscall[architecture]), syscall.name).toBe(ENOSYS_ERRNO);
      const refused = new Set(REFUSED_SYSCALLS.map((syscall) => syscall[architecture]));
      for (let nr = 0; nr < 460; nr += 1)
        if (!refused.has(nr)) expect(evaluate(bytes, ARCH[architecture], nr)).toBe(ALLOW);
    });

    it(`kills a process that uses another ABI (${architecture})`, () => {
      expect(evaluate(bytes, 0x40000003 /* i386 */, 39)).toBe(KILL);
    });
  }

  it('refuses x32 system calls on x86_64 as a whole', () => {
    const bytes = encodeSeccompProgram(buildSeccompProgram('x64'));
    expect(evaluate(bytes, ARCH.x64, 0x40000000 + 39)).toBe(ENOSYS_ERRNO);
  });

  it('has a filter only for the architectures it knows', () => {
    expect(seccompArchitectureOf('x64')).toBe('x64');
    expect(seccompArchitectureOf('arm64')).toBe('arm64');
    expect(seccompArchitectureOf('riscv64')).toBeUndefined();
  });
});
