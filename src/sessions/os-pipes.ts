import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WarrenError } from '../errors/index.js';

/** Both ends of one kernel pipe, as descriptors of this process (close-on-exec). */
export interface OsPipe {
  read: number;
  write: number;
}

/** Opens both ends of a FIFO without blocking, and without O_NONBLOCK on either end. */
function openBothEnds(path: string): OsPipe {
  // A non-blocking reader lets the writer open at once; a second, blocking reader then opens at once too.
  const opener = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const write = openSync(path, constants.O_WRONLY);
    try {
      return { read: openSync(path, constants.O_RDONLY), write };
    } catch (error) {
      closeSync(write);
      throw error;
    }
  } finally {
    closeSync(opener);
  }
}

/**
 * Real pipes, which Node has no call for: its `stdio: 'pipe'` gives socketpairs, and a program that reopens its
 * output (`echo x > /dev/stderr`, `/proc/self/fd/1`) fails on a socket with ENXIO where a pipe works. Each pipe
 * is a FIFO in a private folder, opened at both ends and unlinked at once. Neither end has O_NONBLOCK (a program
 * reading a non-blocking stdin would fail with EAGAIN); Node sets it on its own end when it wraps it.
 */
export function createOsPipes(count: number): OsPipe[] {
  const folder = mkdtempSync(join(tmpdir(), 'warren-pipes-'));
  const opened: OsPipe[] = [];
  try {
    const paths = Array.from({ length: count }, (_, index) => join(folder, String(index)));
    // Mode 0666: the sandbox user may not map to the host user that owns the FIFO, and reopening its own
    // output through /proc (echo x > /dev/stderr) checks the mode bits. Nobody else can reach the FIFO: its
    // folder is private (0700) while it has a name, and it is unlinked before the sandbox starts.
    const made = spawnSync('mkfifo', ['-m', '0666', ...paths], { encoding: 'utf8' });
    if (made.status !== 0)
      throw new WarrenError(
        'sandbox-failed',
        `Could not make the sandbox's pipes: ${made.stderr || String(made.error)}`,
        { hint: 'mkfifo (coreutils) must be on PATH and the temp folder writable.' },
      );
    for (const path of paths) opened.push(openBothEnds(path));
    return opened;
  } catch (error) {
    for (const pipe of opened) {
      closeSync(pipe.read);
      closeSync(pipe.write);
    }
    throw error;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
